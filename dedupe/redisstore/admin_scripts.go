package redisstore

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The operator scripts of a Store (Inspect, Scan, Stats, ForceRelease,
// Forget); each file says what it does. They are run with Script.Run and
// RunRO, which load them on NOSCRIPT, so loadScripts leaves them out.
var (
	//go:embed scripts/inspect.lua
	inspectLua string
	//go:embed scripts/admin.lua
	adminLua string

	inspectScript = redis.NewScript(inspectLua)
	adminScript   = redis.NewScript(adminLua)
)
