// A linearizability check of Sealbox's KV under HA faults. Concurrent clients
// write and read a few KV v2 keys through every node (standbys forward to the
// active) while the Python harness steps the active down and kills it; the
// recorded history is checked with Porcupine against a register per key.
//
// A write whose outcome the client cannot know (a timeout, a dropped
// connection, any answer but 200) may have been applied at any point after
// it was sent, or never: it is recorded as returning at the end of time,
// which lets the checker place it anywhere after its call, last included.
// A read that fails tells nothing and is left out, as is a write that never
// left the client (a killed node refusing connections) or that a standby
// refused without forwarding (no active node known).
//
// Environment: SEALBOX_NODES (comma-separated URLs), SEALBOX_CACERT,
// SEALBOX_TOKEN, SEALBOX_SECONDS (how long to run), SEALBOX_MOUNT.
package linearizability

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

const (
	clients = 6
	keys    = 3
)

type input struct {
	Key   string
	Write bool
	Value string
}

type output struct {
	Value   string // a read's value ("" for none)
	Unknown bool   // a write whose outcome is not known
}

var registers = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(input).Key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		i, o := in.(input), out.(output)
		if i.Write {
			return true, i.Value
		}
		return o.Value == state.(string), state
	},
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(input), out.(output)
		if i.Write {
			return fmt.Sprintf("put(%s, %s) unknown=%v", i.Key, i.Value, o.Unknown)
		}
		return fmt.Sprintf("get(%s) -> %q", i.Key, o.Value)
	},
}

type cluster struct {
	nodes  []string
	token  string
	mount  string
	client *http.Client
	start  time.Time
}

func newCluster(t *testing.T) *cluster {
	pem, err := os.ReadFile(os.Getenv("SEALBOX_CACERT"))
	if err != nil {
		t.Fatalf("CA: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &cluster{
		nodes: strings.Split(os.Getenv("SEALBOX_NODES"), ","),
		token: os.Getenv("SEALBOX_TOKEN"),
		mount: os.Getenv("SEALBOX_MOUNT"),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
		start: time.Now(),
	}
}

func (c *cluster) now() int64 { return int64(time.Since(c.start)) }

// One operation against `node`: the write's outcome or the read's value.
func (c *cluster) do(node string, in input) (output, bool) {
	url := fmt.Sprintf("%s/v1/%s/data/%s", node, c.mount, in.Key)
	var req *http.Request
	if in.Write {
		body, _ := json.Marshal(map[string]any{"data": map[string]string{"v": in.Value}})
		req, _ = http.NewRequest("POST", url, bytes.NewReader(body))
	} else {
		req, _ = http.NewRequest("GET", url, nil)
	}
	req.Header.Set("X-Vault-Token", c.token)
	resp, err := c.client.Do(req)
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return output{}, true // never sent (a killed node): no effect
	}
	if err != nil {
		return output{Unknown: in.Write}, !in.Write
	}
	defer resp.Body.Close()
	switch {
	case in.Write && resp.StatusCode == 503 && notForwarded(resp):
		return output{}, true // a standby that knew no active node: never reached storage
	case in.Write:
		return output{Unknown: resp.StatusCode != 200}, false
	case resp.StatusCode == 404:
		return output{}, false
	case resp.StatusCode != 200:
		return output{}, true
	}
	var got struct {
		Data struct {
			Data map[string]string `json:"data"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return output{}, true
	}
	return output{Value: got.Data.Data["v"]}, false
}

// A standby's 503 while no node leads: it never forwarded the request. (A
// forward that failed after sending answers 502, an outcome unknown.)
func notForwarded(resp *http.Response) bool {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return bytes.Contains(body, []byte("active cluster node not found"))
}

type tally struct {
	mu                                   sync.Mutex
	ops                                  []porcupine.Operation
	writes, unknownWrites, reads, dropped int
}

func (c *cluster) run(id int, until time.Time, h *tally) {
	rng := rand.New(rand.NewSource(int64(id)))
	for seq := 0; time.Now().Before(until); seq++ {
		in := input{Key: "k" + strconv.Itoa(rng.Intn(keys)), Write: rng.Intn(2) == 0}
		if in.Write {
			in.Value = fmt.Sprintf("c%d-%d", id, seq)
		}
		call := c.now()
		out, dropped := c.do(c.nodes[rng.Intn(len(c.nodes))], in)
		ret := c.now()
		h.mu.Lock()
		switch {
		case dropped:
			h.dropped++
		case out.Unknown:
			h.unknownWrites++
			ret = math.MaxInt64 / 2 // may take effect at any time after the call, or never
		case in.Write:
			h.writes++
		default:
			h.reads++
		}
		if !dropped {
			h.ops = append(h.ops, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
		}
		h.mu.Unlock()
	}
}

func TestKVHistoryIsLinearizable(t *testing.T) {
	c := newCluster(t)
	seconds, _ := strconv.Atoi(os.Getenv("SEALBOX_SECONDS"))
	until := time.Now().Add(time.Duration(seconds) * time.Second)
	h := &tally{}
	var wg sync.WaitGroup
	for id := 0; id < clients; id++ {
		wg.Add(1)
		go func(id int) { defer wg.Done(); c.run(id, until, h) }(id)
	}
	wg.Wait()
	t.Logf("history: %d acknowledged writes, %d writes of unknown outcome, %d reads; %d operations left out "+
		"(failed reads, writes never sent or never forwarded)", h.writes, h.unknownWrites, h.reads, h.dropped)
	if h.writes < 50 || h.reads < 50 {
		t.Fatalf("too short a history to mean anything")
	}
	result, info := porcupine.CheckOperationsVerbose(registers, h.ops, 60*time.Second)
	if result != porcupine.Ok {
		if out := os.Getenv("SEALBOX_VISUALIZATION"); out != "" {
			_ = porcupine.VisualizePath(registers, info, out)
		}
		t.Fatalf("the history is not linearizable (%v); visualization in SEALBOX_VISUALIZATION", result)
	}
	fmt.Println("LINEARIZABLE")
}

// The model is not vacuous: a read that misses an acknowledged write, and a
// value nobody wrote, are refused; a write of unknown outcome may or may not
// have happened.
func TestCheckerRefusesWhatNoOrderExplains(t *testing.T) {
	put := func(k, v string, call, ret int64, unknown bool) porcupine.Operation {
		return porcupine.Operation{Input: input{Key: k, Write: true, Value: v}, Call: call, Return: ret,
			Output: output{Unknown: unknown}}
	}
	get := func(k, v string, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: 1, Input: input{Key: k}, Call: call, Return: ret, Output: output{Value: v}}
	}
	cases := []struct {
		name string
		ops  []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"stale read", []porcupine.Operation{put("k", "a", 0, 10, false), get("k", "", 20, 30)}, porcupine.Illegal},
		{"invented value", []porcupine.Operation{get("k", "x", 0, 10)}, porcupine.Illegal},
		{"read after write", []porcupine.Operation{put("k", "a", 0, 10, false), get("k", "a", 20, 30)}, porcupine.Ok},
		{"unknown write not applied", []porcupine.Operation{put("k", "a", 0, math.MaxInt64 / 2, true),
			get("k", "", 20, 30)}, porcupine.Ok},
		{"unknown write applied late", []porcupine.Operation{put("k", "a", 0, math.MaxInt64 / 2, true),
			get("k", "", 20, 30), get("k", "a", 40, 50)}, porcupine.Ok},
	}
	for _, c := range cases {
		if got := porcupine.CheckOperationsTimeout(registers, c.ops, 10*time.Second); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
