// Package readme holds no code: its test keeps the README's Go snippets
// equal to the example programs (examples/*/main.go), which are built,
// vetted and run by their own tests against the real services.
package readme
