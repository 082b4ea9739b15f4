// Command idemq inspects and repairs the keys that idemq's guard (package
// dedupe) keeps in Redis: what a key holds, which keys are claimed or
// committed, a claim stuck after its owner crashed, a value committed by
// mistake, and how many keys of each kind there are.
//
//	go run ./cmd/idemq -redis 127.0.0.1:6379 list --claimed
//	go run ./cmd/idemq get order-17
//	go run ./cmd/idemq release order-17 --force
//
// It works on a standalone Redis or Valkey and on a Redis Cluster (every
// master), through the same redisstore.Store the guard uses (Inspect, Scan,
// ForceReleaseToken, ForgetToken, Stats, and Release for a fenced release),
// so it reads and writes the guard's record layout exactly. Text output is for
// people; the exit status (below) tells a script what happened, and -json
// prints one JSON object, on one line, with stable field names:
//
//	get      {"key", "record_key", "state": "free"|"claimed"|"committed"|"corrupt", "token",
//	          "watched", "ttl_ms" (lease or TTL left; -1: no expiry), "value", "encoding", "error"}
//	list     {"keys": [get's objects, without "value"], "cursor" ("" when complete), "complete"}
//	release  {"key", "released", "token", "forced"}
//	forget   {"key", "forgotten", "token"}
//	stats    {"prefix", "examined", "claimed", "watched", "committed", "corrupt", "foreign",
//	          "shortest_lease" (get's object, or null), "shortest_lease_not_renewed",
//	          "memory_bytes", "server_memory_bytes", "partial"}
//
// get prints what it read also when it exits with status 3 (free) or 1
// (corrupt); release and forget print only what they changed, and say on
// stderr why they changed nothing. Errors go to stderr, as "idemq: ..." lines.
//
// The text of idemq -h, which TestDocRepeatsUsage keeps in step:
//
//	Usage: idemq [global flags] COMMAND [flags] [KEY]
//
//	Inspects and repairs the keys that idemq's guard (package dedupe) keeps in Redis.
//
//	Commands:
//	  get KEY         what KEY holds: free, claimed (token, lease left) or committed (value, TTL left)
//	  list            the keys under the prefix, a page at a time (SCAN, every master of a Cluster)
//	  release KEY     free a stuck claim: --token T (that owner's only) or --force (any; asks unless -y)
//	  forget KEY      delete a committed value: the next delivery runs again (asks unless -y)
//	  stats           counts by state, the claim with the least lease left, memory used
//	  help [COMMAND]  this text, or a command's flags and details
//
//	Global flags (before or after the command):
//	  -cluster
//	    	the address is a Cluster node even if it is the only one
//	  -codec string
//	    	how committed values are shown: json (pretty; compact with -json), string, or raw (base64) (default "json")
//	  -json
//	    	print JSON (stable field names) instead of text
//	  -password password
//	    	password (overrides the URL's; default env IDEMQ_REDIS_PASSWORD)
//	  -prefix prefix
//	    	the guard's key prefix, as redisstore.WithPrefix sets it (env IDEMQ_PREFIX) (default "idemq:")
//	  -redis address
//	    	Redis address: host:port, a redis:// or rediss:// URL (user, password, /db, TLS), or comma-separated Cluster seeds (env IDEMQ_REDIS) (default "127.0.0.1:6379")
//	  -timeout duration
//	    	bound on each step that talks to Redis (not on a confirmation prompt) (default 10s)
//	  -tls
//	    	connect with TLS (as a rediss:// URL does)
//	  -tls-ca file
//	    	with TLS, verify the server against the CA certificates in this PEM file
//	  -tls-insecure
//	    	with TLS, do not verify the server's certificate
//	  -user user
//	    	ACL user name (overrides the URL's)
//
//	Values: -codec json shows a committed value as JSON (dedupe's default JSONCodec), pretty
//	with text output and compact with -json; -codec string as text (Go-quoted if it is not
//	valid UTF-8); -codec raw as base64 (standard encoding, padded). A value that is not valid
//	JSON, or not valid UTF-8 under -json, is shown the next way down (string, then base64).
//
//	Exit status:
//	  0  done
//	  1  failure: Redis unreachable or failing, a record that is none of idemq's (corrupt),
//	     a change not confirmed at the prompt
//	  2  usage error: unknown command or flag, missing or extra arguments, an invalid key,
//	     token, glob or cursor (all checked before connecting)
//	  3  the key is not in the state the command needs: get: the key is free (nothing
//	     claimed or committed); release: the key holds no claim (it is free or committed),
//	     or with --token the claim of another token; forget: the key holds no committed
//	     value (it is free or claimed)
package main
