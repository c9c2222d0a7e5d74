// Command sdnotify sends each argument as a datagram of its own to the
// socket $NOTIFY_SOCKET names, as sd_notify(3) does; the notify tests run
// it in a container, whose busybox has nothing that sends datagrams to a
// unix socket.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		fmt.Fprintln(os.Stderr, "sdnotify: NOTIFY_SOCKET is not set")
		os.Exit(2)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdnotify:", err)
		os.Exit(1)
	}
	defer conn.Close()
	for _, msg := range os.Args[1:] {
		if _, err := conn.Write([]byte(msg)); err != nil {
			fmt.Fprintln(os.Stderr, "sdnotify:", err)
			os.Exit(1)
		}
	}
}
