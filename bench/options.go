package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// options are the program's flags, with -short applied.
type options struct {
	out        string
	rounds     int
	messages   int // per Kafka row and per round; also the keys of a floor, batch or Watermill row, an HTTP row's requests
	ioMessages int // per round of a row whose handler does I/O (the keyed topic)
	partitions int
	valueSize  int
	only       *regexp.Regexp
	short      bool
	cpuProfile string // a CPU profile of the rounds (all rows: use -only)
}

// Sizes of -short: enough for every row to produce a figure in seconds.
const (
	shortMessages   = 2_000
	shortIOMessages = 400
	shortPartitions = 4
	shortValueSize  = 256
)

func parseOptions(args []string, log io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(log)
	var o options
	var only string
	fs.StringVar(&o.out, "out", "bench/RESULTS.md", "the report to write")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per row, interleaved across rows")
	fs.IntVar(&o.messages, "messages", 100_000, "messages per Kafka topic (and keys per floor, batch and Watermill row, requests per HTTP row)")
	fs.IntVar(&o.ioMessages, "io-messages", 20_000, "messages of the keyed topic the rows whose handler does I/O read")
	fs.IntVar(&o.partitions, "partitions", 8, "partitions per Kafka topic")
	fs.IntVar(&o.valueSize, "value-size", 1024, "bytes per Kafka message value")
	fs.StringVar(&only, "only", "", "a regexp of row names: run only those (e.g. 'kafka/raw|floor')")
	fs.BoolVar(&o.short, "short", false, fmt.Sprintf("small sizes for a smoke test (-messages %d -io-messages %d "+
		"-partitions %d -value-size %d unless set)", shortMessages, shortIOMessages, shortPartitions, shortValueSize))
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the rounds to this file (with -only, of one row)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	applyShort(fs, &o)
	if o.rounds < 1 || o.messages < 1 || o.ioMessages < 1 || o.partitions < 1 || o.valueSize < 0 {
		return o, fmt.Errorf("-rounds, -messages, -io-messages and -partitions must be positive, -value-size not negative")
	}
	re, err := regexp.Compile(only)
	if err != nil {
		return o, fmt.Errorf("-only: %w", err)
	}
	o.only = re
	return o, nil
}

// applyShort shrinks the sizes that were not set explicitly.
func applyShort(fs *flag.FlagSet, o *options) {
	if !o.short {
		return
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["messages"] {
		o.messages = shortMessages
	}
	if !set["io-messages"] {
		o.ioMessages = shortIOMessages
	}
	if !set["partitions"] {
		o.partitions = shortPartitions
	}
	if !set["value-size"] {
		o.valueSize = shortValueSize
	}
}

// commandLine is the go run line that repeats this run, every size spelled
// out (-short's included).
func (o options) commandLine() string {
	line := fmt.Sprintf("go run ./bench -out %s -rounds %d -messages %d -io-messages %d -partitions %d -value-size %d",
		o.out, o.rounds, o.messages, o.ioMessages, o.partitions, o.valueSize)
	if o.only.String() != "" {
		line += " -only '" + strings.ReplaceAll(o.only.String(), "'", `'\''`) + "'"
	}
	if o.short {
		line += " -short"
	}
	if o.cpuProfile != "" {
		line += " -cpuprofile " + o.cpuProfile
	}
	return line
}
