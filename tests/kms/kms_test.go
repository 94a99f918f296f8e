// Package kms drives `sealbox kms-plugin` with kube-apiserver's own KMS v2
// code: the gRPC client (kmsv2.NewGRPCService) and the envelope transformer
// (kmsv2.NewEnvelopeTransformer, GenerateTransformer) of k8s.io/apiserver,
// pinned by go.mod. The Python wrapper (test_kms_plugin.py) starts Sealbox
// and the plugin and passes their addresses in the environment.
package kms

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmsservice "k8s.io/kms/pkg/service"
)

const (
	provider = "sealbox"
	prefix   = "k8s:enc:kms:v2:" + provider + ":"
)

func env(t *testing.T, name string) string {
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set (run through tests/kms/test_kms_plugin.py)", name)
	}
	return v
}

// sealbox is the HTTP side: rotating the key, sealing and unsealing.
type sealbox struct {
	t      *testing.T
	addr   string
	token  string
	client *http.Client
}

func newSealbox(t *testing.T) *sealbox {
	pem, err := os.ReadFile(env(t, "SEALBOX_CACERT"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &sealbox{t: t, addr: env(t, "SEALBOX_ADDR"), token: env(t, "SEALBOX_TOKEN"),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func (s *sealbox) put(path string, body any) {
	s.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPut, s.addr+"/v1/"+path, bytes.NewReader(data))
	req.Header.Set("X-Vault-Token", s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("PUT %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		s.t.Fatalf("PUT %s: HTTP %d", path, resp.StatusCode)
	}
}

// apiserver holds what kube-apiserver holds per KMS provider: the current
// state (a DEK seed encrypted by the plugin, and its key_id), replaced when
// Status reports a new key_id, as the apiserver's Status poll does.
type apiserver struct {
	t     *testing.T
	svc   kmsservice.Service
	state kmsv2.State
}

func (a *apiserver) status(ctx context.Context) (*kmsservice.StatusResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return a.svc.Status(ctx)
}

// refresh makes a new DEK seed when the plugin's key_id moved; it returns
// whether it did.
func (a *apiserver) refresh(ctx context.Context) bool {
	a.t.Helper()
	st, err := a.status(ctx)
	if err != nil || st.Healthz != "ok" {
		a.t.Fatalf("Status: %+v, %v", st, err)
	}
	if st.KeyID == a.state.EncryptedObjectKeyID {
		return false
	}
	tr, obj, cacheKey, err := kmsv2.GenerateTransformer(ctx, "uid-"+st.KeyID, a.svc, true)
	if err != nil {
		a.t.Fatalf("GenerateTransformer: %v", err)
	}
	if obj.KeyID != st.KeyID {
		a.t.Fatalf("Encrypt answered key_id %q, Status %q", obj.KeyID, st.KeyID)
	}
	a.state = kmsv2.State{
		Transformer:                           tr,
		EncryptedObjectKeyID:                  obj.KeyID,
		EncryptedObjectEncryptedDEKSource:     obj.EncryptedDEKSource,
		EncryptedObjectAnnotations:            obj.Annotations,
		EncryptedObjectEncryptedDEKSourceType: obj.EncryptedDEKSourceType,
		UID:                                   "uid-" + st.KeyID,
		ExpirationTimestamp:                   time.Now().Add(3 * time.Minute),
		CacheKey:                              cacheKey,
		KMSProviderName:                       provider,
	}
	return true
}

// transformer is a fresh envelope transformer (an empty DEK cache, as after
// an apiserver restart), so reads go through the plugin's Decrypt; behind
// the "k8s:enc:kms:v2:<name>:" prefix, as the apiserver's
// EncryptionConfiguration sets it up.
func (a *apiserver) transformer() value.Transformer {
	envelope := kmsv2.NewEnvelopeTransformer(a.svc, provider, func() (kmsv2.State, error) { return a.state, nil }, "apiserver-1")
	return value.NewPrefixTransformers(nil, value.PrefixTransformer{Prefix: []byte(prefix), Transformer: envelope})
}

func secretBytes(t *testing.T, name string) []byte {
	s := corev1.Secret{
		TypeMeta:   metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Data:       map[string][]byte{"password": []byte("hunter2-" + name)},
	}
	data, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type stored struct {
	name  string
	plain []byte
	data  []byte
}

func write(t *testing.T, ctx context.Context, tr value.Transformer, name string) stored {
	t.Helper()
	plain := secretBytes(t, name)
	data, err := tr.TransformToStorage(ctx, plain, value.DefaultContext("/registry/secrets/default/"+name))
	if err != nil {
		t.Fatalf("TransformToStorage(%s): %v", name, err)
	}
	if !bytes.HasPrefix(data, []byte(prefix)) || bytes.Contains(data, []byte("hunter2")) {
		t.Fatalf("%s is not a KMS v2 envelope: %q", name, data)
	}
	return stored{name, plain, data}
}

// read decrypts s with tr and checks it, and whether the apiserver would
// call it stale (written under an older key_id: to be re-encrypted).
func read(t *testing.T, ctx context.Context, tr value.Transformer, s stored, wantStale bool) {
	t.Helper()
	out, stale, err := tr.TransformFromStorage(ctx, s.data, value.DefaultContext("/registry/secrets/default/"+s.name))
	if err != nil {
		t.Fatalf("TransformFromStorage(%s): %v", s.name, err)
	}
	if !bytes.Equal(out, s.plain) {
		t.Fatalf("%s decrypted to %q", s.name, out)
	}
	if stale != wantStale {
		t.Fatalf("%s: stale = %v, want %v", s.name, stale, wantStale)
	}
}

func connect(t *testing.T, ctx context.Context) *apiserver {
	svc, err := kmsv2.NewGRPCService(ctx, "unix://"+env(t, "SEALBOX_KMS_SOCKET"), provider, 10*time.Second)
	if err != nil {
		t.Fatalf("NewGRPCService: %v", err)
	}
	a := &apiserver{t: t, svc: svc}
	if !a.refresh(ctx) {
		t.Fatal("the first Status gave no key_id")
	}
	return a
}

// waitStatus polls Status (bounded) until want(healthz) holds.
func waitStatus(t *testing.T, ctx context.Context, a *apiserver, what string, want func(*kmsservice.StatusResponse, error) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := a.status(ctx)
		if want(st, err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Status never became %s: %+v, %v", what, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSecretsAcrossKeyRotation(t *testing.T) {
	ctx := context.Background()
	sb := newSealbox(t)
	key := env(t, "SEALBOX_KMS_KEY")
	a := connect(t, ctx)
	first := a.state.EncryptedObjectKeyID
	if !strings.Contains(first, key) {
		t.Fatalf("key_id %q does not name the transit key %q", first, key)
	}
	old := write(t, ctx, a.transformer(), "before-rotation")
	read(t, ctx, a.transformer(), old, false)

	sb.put("transit/keys/"+key+"/rotate", map[string]any{})
	// The plugin's key_id moves within seconds: the next Status shows it.
	waitStatus(t, ctx, a, "a new key_id", func(st *kmsservice.StatusResponse, err error) bool {
		return err == nil && st.Healthz == "ok" && st.KeyID != first
	})
	if !a.refresh(ctx) {
		t.Fatal("the apiserver kept its DEK after the key_id changed")
	}
	// Data written before the rotation still decrypts, and is stale: the
	// apiserver rewrites it under the new key_id.
	read(t, ctx, a.transformer(), old, true)
	fresh := write(t, ctx, a.transformer(), "after-rotation")
	read(t, ctx, a.transformer(), fresh, false)
}

func TestSealedSealbox(t *testing.T) {
	ctx := context.Background()
	sb := newSealbox(t)
	a := connect(t, ctx)
	before := write(t, ctx, a.transformer(), "before-seal")

	sb.put("sys/seal", map[string]any{})
	waitStatus(t, ctx, a, "not ok", func(st *kmsservice.StatusResponse, err error) bool {
		return err != nil || st.Healthz != "ok"
	})
	if _, err := a.svc.Encrypt(ctx, "uid-sealed", []byte("0123456789abcdef0123456789abcdef")); err == nil {
		t.Fatal("Encrypt succeeded while Sealbox was sealed")
	}
	if _, _, _, err := kmsv2.GenerateTransformer(ctx, "uid-sealed", a.svc, true); err == nil {
		t.Fatal("a DEK was made while Sealbox was sealed")
	}

	for _, k := range strings.Split(env(t, "SEALBOX_UNSEAL_KEYS"), ",") {
		sb.put("sys/unseal", map[string]any{"key": k})
	}
	waitStatus(t, ctx, a, "ok", func(st *kmsservice.StatusResponse, err error) bool {
		return err == nil && st.Healthz == "ok"
	})
	read(t, ctx, a.transformer(), before, false)
	read(t, ctx, a.transformer(), write(t, ctx, a.transformer(), "after-unseal"), false)
}

func TestMain(m *testing.M) {
	if os.Getenv("SEALBOX_KMS_SOCKET") == "" {
		fmt.Fprintln(os.Stderr, "run through tests/kms/test_kms_plugin.py")
	}
	os.Exit(m.Run())
}

// Run alone by the wrapper once Sealbox has been stopped.
func TestSealboxUnreachable(t *testing.T) {
	if os.Getenv("SEALBOX_KMS_EXPECT_DOWN") == "" {
		t.Skip("only with Sealbox stopped (SEALBOX_KMS_EXPECT_DOWN)")
	}
	ctx := context.Background()
	svc, err := kmsv2.NewGRPCService(ctx, "unix://"+env(t, "SEALBOX_KMS_SOCKET"), provider, 10*time.Second)
	if err != nil {
		t.Fatalf("NewGRPCService: %v", err)
	}
	a := &apiserver{t: t, svc: svc}
	st, err := a.status(ctx)
	if err != nil || st.Healthz == "ok" || st.KeyID == "" {
		t.Fatalf("Status with Sealbox away: %+v, %v (want a reason and the last key_id)", st, err)
	}
	if _, err := svc.Encrypt(ctx, "uid-down", []byte("0123456789abcdef0123456789abcdef")); err == nil {
		t.Fatal("Encrypt succeeded with Sealbox unreachable")
	}
}
