package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

type receipt struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

func TestGet(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		stuckClaims(t, srv, time.Minute, "order-1", "order{2}")
		commit(t, srv, "order-3", receipt{ID: "r-3", Amount: 12})
		commit(t, srv, "raw{4}", []byte("\x00\x01bytes"), dedupe.WithCodec(dedupe.RawCodec{}))
		token := inspect(t, srv, "order-1").Token

		claim := on(t, srv, "", "get", "order-1")
		claim.want(t, exitOK)
		claim.fieldsAre(t, map[string]string{"key": "order-1", "record": srv.Prefix + "{order-1}", "state": "claimed", "token": token, "watched": "no"})
		if d := leftOf(t, claim.out, "lease left"); d <= 0 || d > time.Minute {
			t.Errorf("lease left %v, want 0 < it <= 1m", d)
		}
		braced := on(t, srv, "", "get", "order{2}")
		braced.want(t, exitOK, "}:order{2}\n")
		braced.fieldsAre(t, map[string]string{"state": "claimed"})
		if rk := field(braced.out, "record"); !strings.HasPrefix(rk, srv.Prefix+"{#") {
			t.Errorf("record of a key with braces: %q, want %s{#H}:order{2}", rk, srv.Prefix)
		}
		value := on(t, srv, "", "get", "order-3")
		value.want(t, exitOK)
		value.fieldsAre(t, map[string]string{"state": "committed", "value (json)": "{\n  \"id\": \"r-3\",\n  \"amount\": 12\n}"})
		if d := leftOf(t, value.out, "ttl left"); d < 23*time.Hour || d > dedupe.DefaultTTL {
			t.Errorf("ttl left %v, want about 24h", d)
		}
		on(t, srv, "", "-codec", "string", "get", "order-3").fieldsAre(t, map[string]string{"value (string)": `{"id":"r-3","amount":12}`})
		on(t, srv, "", "-codec", "raw", "get", "order-3").fieldsAre(t, map[string]string{"value (base64)": "eyJpZCI6InItMyIsImFtb3VudCI6MTJ9"})
		on(t, srv, "", "get", "raw{4}").fieldsAre(t, map[string]string{"value (string)": `"\x00\x01bytes"`}) // not JSON: a quoted string

		free := on(t, srv, "", "get", "nothing-here")
		free.want(t, exitState)
		free.fieldsAre(t, map[string]string{"state": "free"})
		free.wantErr(t, "idemq: key nothing-here is free")
	})
}

func TestGetJSON(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		stuckClaims(t, srv, time.Minute, "claimed")
		commit(t, srv, "committed", receipt{ID: "r", Amount: 1})
		commit(t, srv, "bytes", []byte{0xff, 0xfe}, dedupe.WithCodec(dedupe.RawCodec{}))
		for _, c := range []struct {
			args []string
			code int
			want keyView
		}{
			{[]string{"get", "claimed"}, exitOK, keyView{State: "claimed"}},
			{[]string{"get", "committed"}, exitOK, keyView{State: "committed", Value: json.RawMessage(`{"id":"r","amount":1}`), Encoding: "json"}},
			{[]string{"-codec", "string", "get", "committed"}, exitOK, keyView{State: "committed", Value: json.RawMessage(`"{\"id\":\"r\",\"amount\":1}"`), Encoding: "string"}},
			{[]string{"get", "bytes"}, exitOK, keyView{State: "committed", Value: json.RawMessage(`"//4="`), Encoding: "base64"}},
			{[]string{"get", "free"}, exitState, keyView{State: "free"}},
		} {
			r := on(t, srv, "", append([]string{"-json"}, c.args...)...)
			r.want(t, c.code)
			var got keyView
			if err := json.Unmarshal([]byte(r.out), &got); err != nil {
				t.Fatalf("%q: %v in %q", c.args, err, r.out)
			}
			key := c.args[len(c.args)-1]
			if got.Key != key || got.RecordKey != srv.Prefix+"{"+key+"}" || got.State != c.want.State ||
				string(got.Value) != string(c.want.Value) || got.Encoding != c.want.Encoding {
				t.Errorf("%q: %+v, want %+v", c.args, got, c.want)
			}
			ttl := map[string][2]int64{"free": {0, 0}, "claimed": {1, 60_000}, "committed": {23 * 3600_000, 24 * 3600_000}}[got.State]
			if got.TTLMillis < ttl[0] || got.TTLMillis > ttl[1] || (got.Token == "") != (got.State == "free") {
				t.Errorf("%q: token %q, ttl_ms %d for state %s", c.args, got.Token, got.TTLMillis, got.State)
			}
		}
	})
}

func TestGetCorruptRecord(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	if err := srv.Client.Set(t.Context(), srv.Prefix+"{bad}", "not a record", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	r := on(t, srv, "", "-json", "get", "bad")
	r.want(t, exitFailure, `"state":"corrupt"`, `"error":"dedupe: stored value of key \"bad\" cannot be decoded`)
	r.wantErr(t, "idemq: get bad: dedupe: stored value")
	if strings.Contains(r.out, `"value":`) {
		t.Errorf("a corrupt record shows a value: %s", r.out)
	}
}
