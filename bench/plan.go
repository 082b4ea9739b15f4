package main

import (
	"strconv"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe/pgstore"
)

// Names of the rows others refer to.
const (
	rawGroupRow = "kafka/raw-consumergroup"
	pgFloorRow  = "kafka/floor-postgres"
	noneRow     = "watermill/none"
)

// batchSizes are the batch path's sizes, and the floor's pipeline depths.
var batchSizes = []int{1, 16, 100, 500}

// floorDepth is the floor the Kafka rows' server CPU is compared with: the
// consumer claims and commits up to 500 keys (BatchSize) per round trip.
const floorDepth = 500

// plan lists every row in table order (the order of each round), keeping
// those -only selects.
func plan(o options) []*row {
	var rows []*row
	rows = append(rows, kafkaRows(o)...)
	rows = append(rows, ioRows()...)
	rows = append(rows, idemqFranzRows()...)
	rows = append(rows, postgresRows()...)
	rows = append(rows, batchRows(o)...)
	rows = append(rows, runRows(o)...)
	rows = append(rows, watermillRows(o)...)
	rows = append(rows, httpRows(o)...)
	rows = append(rows, memoryRows(o)...)
	return filter(rows, o.only)
}

func onRedis(env *services) *server  { return env.redis }
func onValkey(env *services) *server { return env.valkey }

func kafkaRows(o options) []*row {
	k := func(name, note string, needs need, run runFunc) *row {
		return &row{name: name, section: sectionKafka, unit: "msgs/s", needs: needKafka | needs,
			baseline: rawGroupRow, note: note, run: run}
	}
	withServer := func(r *row, srv func(*services) *server, floor string) *row {
		r.server, r.floor = srv, floor
		return r
	}
	redisFloor, valkeyFloor := floorName("redis", floorDepth), floorName("valkey", floorDepth)
	return []*row{
		k(rawGroupRow, "kafka-go ConsumerGroup + Generation.Start, a partition Reader per assignment; every "+
			"1,000th message of a partition queues its offset for one committer goroutine, whose "+
			"Generation.CommitOffsets carries every partition's queued offset (as kafka-go's Reader commits)", 0, rawGroupRun),
		k("kafka/raw-reader", "kafka-go Reader with GroupID, CommitMessages every 1,000 per partition (async)", 0, readerRun),
		k(franzRow, "franz-go kgo group consumer, PollFetches, autocommit off, "+
			"CommitUncommittedOffsets after every 1,000 records and at the end; its steady state starts at the first poll "+
			"that has records, which may hand over many at once", 0, franzRun),
		k("kafka/idemq-nullstore", "idemq consumer on a store that does nothing", 0, idemqRun(nullStoreKind, false, false)),
		k("kafka/idemq-memory", "idemq consumer on dedupe.NewMemoryStore()", 0, idemqRun(memoryStoreKind, false, false)),
		withServer(k("kafka/idemq-redis", "idemq consumer on Redis, claim-first, fresh keys", needRedis,
			idemqRun(serverStoreKind, false, false)), onRedis, redisFloor),
		withServer(k("kafka/idemq-redis-dup20", "the same, 20% of the messages repeat an earlier key", needRedis,
			idemqRun(serverStoreKind, true, false)), onRedis, redisFloor),
		withServer(k("kafka/idemq-valkey", "idemq consumer on Valkey, claim-first, fresh keys", needValkey,
			idemqRun(serverStoreKind, false, false)), onValkey, valkeyFloor),
		withServer(k("kafka/idemq-redis-optimistic", "idemq consumer on Redis, Config.Guard.Optimistic, fresh keys", needRedis,
			idemqRun(serverStoreKind, false, true)), onRedis, redisFloor),
	}
}

// ioName names a row whose handler does h's work: "kafka-incr/raw-consumergroup".
func ioName(h handlerIO, reader string) string { return "kafka-" + h.label() + "/" + reader }

// ioRows are the Kafka consumers whose handler does I/O per message: a
// plain loop, sequential per partition, against the idemq consumer on Redis
// in each Ordering, on the keyed topic.
func ioRows() []*row {
	var rows []*row
	for _, h := range []handlerIO{incrIO, sleepIO} {
		baseline := ioName(h, "raw-consumergroup")
		io := func(reader, note string, needs need, srv func(*services) *server, run runFunc) *row {
			return &row{name: ioName(h, reader), section: sectionKafkaIO, unit: "msgs/s", needs: needKafka | needs,
				server: srv, baseline: baseline, note: note, run: run}
		}
		raw := io("raw-consumergroup", "`"+rawGroupRow+"`'s loop, each message handled before the next of its "+
			"partition is fetched", 0, nil, rawIORun(h))
		if h == incrIO {
			raw.needs, raw.server = needKafka|needRedis, onRedis
		}
		rows = append(rows, raw,
			io("idemq-redis-bypartition", "idemq consumer on Redis, claim-first, consumer.ByPartition (the default)",
				needRedis, onRedis, idemqIORun(h, consumer.ByPartition)),
			io("idemq-redis-bykey", "the same with consumer.ByKey", needRedis, onRedis, idemqIORun(h, consumer.ByKey)),
			io("idemq-redis-unordered", "the same with consumer.Unordered", needRedis, onRedis,
				idemqIORun(h, consumer.Unordered)))
	}
	return rows
}

// postgresRows are the Kafka consumers whose effects are rows in
// PostgreSQL, against the hand-written loop with one transaction per message.
func postgresRows() []*row {
	p := func(name, note string, keysDDL func(string) string, run runFunc) *row {
		return &row{name: name, section: sectionPostgres, unit: "msgs/s", needs: needKafka | needPostgres,
			baseline: pgFloorRow, keysDDL: keysDDL, note: note, run: run}
	}
	return []*row{
		p(pgFloorRow, "rawGroupRun's loop, each message in a transaction of its own: BEGIN, "+
			"`INSERT INTO keys (scope, key) ... ON CONFLICT DO NOTHING`, the effect's INSERT if that inserted a row, COMMIT; "+
			"the dedupe table has the primary key (scope, key) and nothing else", floorKeysSchema, pgFloorRun),
		p("kafka/idemq-postgres", "idemq consumer with Config.TxStore a pgstore.Store (pgx pool, pessimistic, "+
			"its own table with pgstore.Schema), the handler inserting the effect through Store.Tx", pgstore.Schema, idemqPostgresRun),
	}
}

func floorName(server string, depth int) string { return "floor/" + server + "/" + strconv.Itoa(depth) }
func batchName(server string, size int) string  { return "batch/" + server + "/" + strconv.Itoa(size) }

func batchRows(o options) []*row {
	var rows []*row
	for _, s := range []struct {
		label string
		needs need
		srv   func(*services) *server
	}{{"redis", needRedis, onRedis}, {"valkey", needValkey, onValkey}} {
		for _, size := range batchSizes {
			floor := floorName(s.label, size)
			rows = append(rows,
				&row{name: floor, section: sectionBatch, unit: "keys/s", needs: s.needs, server: s.srv,
					baseline: floor, floor: floor, run: floorRun(size, o.messages)},
				&row{name: batchName(s.label, size), section: sectionBatch, unit: "keys/s", needs: s.needs, server: s.srv,
					baseline: floor, floor: floor, run: batchRun(size, o.messages)})
		}
	}
	return rows
}

func watermillRows(o options) []*row {
	w := func(name, note string, needs need, srv func(*services) *server, floor string, run runFunc) *row {
		return &row{name: name, section: sectionWatermill, unit: "msgs/s", needs: needs, server: srv,
			baseline: noneRow, floor: floor, note: note, run: run}
	}
	return []*row{
		w(noneRow, "router on GoChannel, no middleware", 0, nil, "", watermillRun(noMiddleware, o.messages)),
		w("watermill/deduplicator", "Watermill's middleware.Deduplicator, in memory", 0, nil, "",
			watermillRun(watermillDeduplicator, o.messages)),
		w("watermill/idemq-redis", "idemq middleware on Redis, claim-first", needRedis, onRedis,
			floorName("redis", floorDepth), watermillRun(idemqMiddleware, o.messages)),
	}
}
