// Command demo-consumer will show idemq deduplicating redelivered messages.
// It is a stub until the demo issue lands.
package main

import "fmt"

func main() {
	fmt.Println("demo-consumer: coming soon")
}
