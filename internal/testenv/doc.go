// Package testenv gives every package's tests the real services they run
// against: a standalone Redis, a Redis Cluster, a standalone Valkey and an
// Apache Kafka broker.
//
// Addresses come from environment variables, which `make test` and
// `make services` set:
//
//	IDEMQ_REDIS_ADDR           host:port of a standalone redis-server
//	IDEMQ_REDIS_CLUSTER_ADDRS  comma-separated seed addresses of a Redis Cluster
//	IDEMQ_VALKEY_ADDR          host:port of a standalone valkey-server 8.1+ (native SET ... IFEQ)
//	IDEMQ_REDIS_REPLICA_ADDR   host:port of a replica of IDEMQ_REDIS_ADDR
//	IDEMQ_VALKEY_REPLICA_ADDR  host:port of a replica of IDEMQ_VALKEY_ADDR
//	IDEMQ_KAFKA_BROKERS        comma-separated Kafka bootstrap addresses
//	IDEMQ_REQUIRE_SERVICES=1   a missing service fails the test instead of skipping it
//	IDEMQ_TEST_NAME_PREFIX     starts every topic, group and key prefix the helpers make (optional)
//
// When a variable is unset and a Docker engine answers, Redis and Kafka are
// started once per test binary with testcontainers-go (there is no container
// fallback for the cluster or Valkey). Otherwise the test is skipped with a message that
// says how to provide the service.
//
// Every helper isolates the test that calls it: Redis helpers hand out a
// unique key prefix whose keys are deleted at cleanup, Kafka helpers create a
// unique topic and consumer-group name per call and delete the topic at cleanup.
package testenv
