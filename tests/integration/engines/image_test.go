package engines

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// The few parts of the OCI image spec (image-spec v1.1) that a one-layer
// image needs, written out here rather than adding a dependency.

const (
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
)

type ociPlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *ociPlatform      `json:"platform,omitempty"`
}

type ociImageConfig struct {
	Created      time.Time `json:"created"`
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Config       struct {
		Env        []string `json:"Env,omitempty"`
		Cmd        []string `json:"Cmd,omitempty"`
		WorkingDir string   `json:"WorkingDir,omitempty"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

type ociManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Config        ociDescriptor   `json:"config"`
	Layers        []ociDescriptor `json:"layers"`
}

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Manifests     []ociDescriptor `json:"manifests"`
}

// dockerManifest is an entry of the manifest.json of `docker save`, which
// `docker load` (20.10) reads: it knows no OCI layout.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// imageLayoutTar writes to w, as one uncompressed tar, the OCI image
// layout of an image whose single layer is the directory tree rootfs,
// named name (the io.containerd.image.name annotation, which ctr import
// takes the image's name from) and running cmd by default. A
// manifest.json beside it, over the same blobs, makes it an archive that
// docker load takes too (ctr import prefers index.json).
func imageLayoutTar(w io.Writer, rootfs, name string, cmd []string) error {
	var layerTar bytes.Buffer
	if err := tarTree(&layerTar, rootfs); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	diffID := sha256.Sum256(layerTar.Bytes())
	var layer bytes.Buffer
	zw := gzip.NewWriter(&layer)
	if _, err := zw.Write(layerTar.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}

	var cfg ociImageConfig
	cfg.Created = time.Now().UTC().Truncate(time.Second)
	cfg.Architecture, cfg.OS = runtime.GOARCH, "linux"
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cfg.Config.Cmd = cmd
	cfg.Config.WorkingDir = "/"
	cfg.RootFS.Type = "layers"
	cfg.RootFS.DiffIDs = []string{"sha256:" + hex.EncodeToString(diffID[:])}
	cfgJSON, err := json.Marshal(&cfg)
	if err != nil {
		return err
	}

	blobs := map[string][]byte{}
	blob := func(mediaType string, b []byte) ociDescriptor {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs[d] = b
		return ociDescriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
	}
	manifest := ociManifest{
		SchemaVersion: 2,
		MediaType:     mediaTypeManifest,
		Config:        blob(mediaTypeConfig, cfgJSON),
		Layers:        []ociDescriptor{blob(mediaTypeLayer, layer.Bytes())},
	}
	manifestJSON, err := json.Marshal(&manifest)
	if err != nil {
		return err
	}
	md := blob(mediaTypeManifest, manifestJSON)
	tag := name[strings.LastIndexByte(name, ':')+1:]
	md.Annotations = map[string]string{
		"io.containerd.image.name":          name,
		"org.opencontainers.image.ref.name": tag,
	}
	md.Platform = &ociPlatform{Architecture: runtime.GOARCH, OS: "linux"}
	indexJSON, err := json.Marshal(&ociIndex{SchemaVersion: 2, MediaType: mediaTypeIndex, Manifests: []ociDescriptor{md}})
	if err != nil {
		return err
	}

	dockerJSON, err := json.Marshal([]dockerManifest{{
		Config:   "blobs/sha256/" + strings.TrimPrefix(manifest.Config.Digest, "sha256:"),
		RepoTags: []string{name},
		Layers:   []string{"blobs/sha256/" + strings.TrimPrefix(manifest.Layers[0].Digest, "sha256:")},
	}})
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	now := time.Now()
	file := func(name string, b []byte) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: now}); err != nil {
			return err
		}
	}
	if err := file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	for d, b := range blobs {
		if err := file("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), b); err != nil {
			return err
		}
	}
	if err := file("index.json", indexJSON); err != nil {
		return err
	}
	if err := file("manifest.json", dockerJSON); err != nil {
		return err
	}
	return tw.Close()
}

// tarTree writes the tree under root as a layer: paths relative to root,
// owners, modes and times kept; directories, regular files and symlinks
// only, and nothing from another file system mounted inside.
func tarTree(w io.Writer, root string) error {
	var rootSt syscall.Stat_t
	if err := syscall.Lstat(root, &rootSt); err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		mounted := st.Dev != rootSt.Dev
		if mounted && !fi.IsDir() {
			return nil
		}
		var link string
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		case fi.IsDir(), fi.Mode().IsRegular():
		default:
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		hdr.Uname, hdr.Gname = "", ""
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if mounted {
			// The mount point stays, empty.
			return filepath.SkipDir
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
