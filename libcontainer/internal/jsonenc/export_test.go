package jsonenc

// Fill is fill, for the tests of package jsonenc_test.
var Fill = fill
