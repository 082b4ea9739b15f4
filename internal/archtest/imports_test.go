package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoBrokerImports checks ARCHITECTURE.md's rules with go list: the core
// (dedupe) and the consumer engine (internal/consume) depend on no broker
// library, directly or not.
func TestNoBrokerImports(t *testing.T) {
	brokers := []string{"github.com/segmentio/kafka-go", "github.com/ThreeDotsLabs/watermill", "github.com/IBM/sarama", "github.com/twmb/franz-go"}
	for _, pkg := range []string{"github.com/idemq/idemq/dedupe", "github.com/idemq/idemq/dedupe/dedupetest", "github.com/idemq/idemq/internal/consume"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range brokers {
				if strings.HasPrefix(dep, b) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
