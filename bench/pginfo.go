package main

import (
	"context"
	"fmt"
	"time"
)

// pgPoint is PostgreSQL's counters at one moment.
type pgPoint struct {
	wal      int64     // pg_current_wal_lsn() in bytes from 0/0
	commits  int64     // pg_stat_database.xact_commit of our database
	sessions int64     // pg_stat_database.sessions, all databases
	dials    int64     // connections we opened
	at       time.Time // the server's now()
}

// pgDelta is PostgreSQL's work during a round, per message.
type pgDelta struct {
	commitsPerMsg float64 // transactions committed in our database
	walPerMsg     float64 // WAL bytes written, by the whole server
	shared        string  // why other clients may have used the server meanwhile; "" if none did
}

// pgPointSQL reads a pgPoint in one statement.
const pgPointSQL = `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
	(SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
	(SELECT sum(sessions)::bigint FROM pg_stat_database), now()`

// point reads the WAL position and the statistics of every database.
func (p *pgServer) point(ctx context.Context) (*pgPoint, error) {
	pt := &pgPoint{dials: p.dials.Load()}
	if err := p.admin.QueryRow(ctx, pgPointSQL).Scan(&pt.wal, &pt.commits, &pt.sessions, &pt.at); err != nil {
		return nil, fmt.Errorf("postgres: reading the statistics: %w", err)
	}
	return pt, nil
}

// delta is the work from earlier to pt, per message, and whether anyone else
// used the server meanwhile: a session we did not open, or a client session
// not named ours that was active during the round (pg_stat_activity). The
// statistics of our own measuring session count too (a few commits a round).
func (p *pgServer) delta(ctx context.Context, earlier, pt *pgPoint, messages int) (*pgDelta, error) {
	d := &pgDelta{commitsPerMsg: float64(pt.commits-earlier.commits) / float64(messages),
		walPerMsg: float64(pt.wal-earlier.wal) / float64(messages)}
	var active int
	err := p.admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE backend_type = 'client backend' AND application_name NOT IN ($1, $2)
	AND (state = 'active' OR state_change >= $3 OR backend_start >= $3)`, p.name, p.name+"-admin", earlier.at).Scan(&active)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing the other sessions: %w", err)
	}
	if others := (pt.sessions - earlier.sessions) - (pt.dials - earlier.dials); others > 0 || active > 0 {
		d.shared = fmt.Sprintf("%d other sessions opened, %d other sessions active", max(others, 0), active)
	}
	return d, nil
}
