package kafkatest

import (
	"os"
	"testing"
)

// scenario is one entry of the table.
type scenario = func(t *testing.T, d Driver)

// groups is the table: each group's scenarios by name.
var groups = []struct {
	name      string
	scenarios map[string]scenario
}{
	{"Outcomes", outcomeScenarios},
	{"Failures", failureScenarios},
	{"Ordering", orderingScenarios},
	{"Shutdown", shutdownScenarios},
	{"Rebalance", rebalanceScenarios},
	{"Faults", faultScenarios},
	{"Config", configScenarios},
	{"Processor", processorScenarios},
	{"Metrics", metricScenarios},
}

// Run runs every scenario against d, as parallel subtests
// (TestScenarios/Outcomes/Processed, ...). In the process the SIGKILL
// scenario starts, it runs that member instead, until it is killed.
func Run(t *testing.T, d Driver) {
	if spec := os.Getenv(childEnv); spec != "" {
		runChild(t, d, spec)
		return
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for name, s := range g.scenarios {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					s(t, d)
				})
			}
		})
	}
}
