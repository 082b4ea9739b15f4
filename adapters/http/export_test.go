package idemqhttp

// Internals for the tests of package idemqhttp_test.
var ParseKey = parseKey

// RoundTrip encodes a response (status, header, body) with the stored
// response codec and decodes it again.
func RoundTrip(status int, header map[string][]string, body []byte) (int, map[string][]string, []byte, error) {
	data, err := responseCodec{}.Encode(response{status: status, header: header, body: body})
	if err != nil {
		return 0, nil, nil, err
	}
	return DecodeResponse(data)
}

// DecodeResponse decodes a stored response.
func DecodeResponse(data []byte) (int, map[string][]string, []byte, error) {
	var r response
	err := responseCodec{}.Decode(data, &r)
	return r.status, r.header, r.body, err
}
