package reflectjson

// Fill is fill, for the tests of package reflectjson_test.
var Fill = fill

// StdJSON is stdJSON, for the tests of package reflectjson_test.
const StdJSON = stdJSON

// JSONV2 is jsonV2, for the tests of package reflectjson_test.
const JSONV2 = jsonV2
