// Package watermill (imported as dedupewatermill) will provide a Watermill
// handler middleware that runs each message's handler inside a dedupe guard.
//
// It is a stub until its issue lands.
package watermill
