package eso

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	esv1alpha1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1alpha1"
)

// put writes a secret with the root token: KV v2 under mount/data/, v1 at
// mount/ (the mount "kv1" is version 1).
func put(t *testing.T, mount, path string, data map[string]any) {
	t.Helper()
	body := data
	p := mount + "/" + path
	if mount != "kv1" {
		body, p = map[string]any{"data": data}, mount+"/data/"+path
	}
	if _, err := root(t).Logical().Write(p, body); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
}

// tokenStore is a SecretStore on mount with the eso policy's token.
func tokenStore(t *testing.T, mount string, version esv1.VaultKVStoreVersion) esv1.SecretsClient {
	t.Helper()
	auth := &esv1.VaultAuth{TokenSecretRef: ptr(ref("vault-token", "token"))}
	f := newFixture(t, esv1.SecretStoreKind, vaultSpec(t, mount, version, auth),
		secret("vault-token", map[string]string{"token": env(t, "SEALBOX_ESO_TOKEN")}))
	return f.open(t)
}

func get(t *testing.T, c esv1.SecretsClient, r esv1.ExternalSecretDataRemoteRef) string {
	t.Helper()
	b, err := c.GetSecret(context.Background(), r)
	if err != nil {
		t.Fatalf("GetSecret(%+v): %v", r, err)
	}
	return string(b)
}

func jsonEq(t *testing.T, got []byte, want map[string]any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("%q: %v", got, err)
	}
	w, _ := json.Marshal(want)
	var wm map[string]any
	_ = json.Unmarshal(w, &wm)
	if !reflect.DeepEqual(m, wm) {
		t.Fatalf("got %s, want %s", got, w)
	}
}

func TestGetSecretKV2(t *testing.T) {
	ctx := context.Background()
	put(t, "secret", "apps/web", map[string]any{"password": "v1-pw"})
	put(t, "secret", "apps/web", map[string]any{"password": "v2-pw", "nested": map[string]any{"k": 1}})
	c := tokenStore(t, "secret", esv1.VaultKVStoreV2)
	if got := get(t, c, esv1.ExternalSecretDataRemoteRef{Key: "apps/web", Property: "password"}); got != "v2-pw" {
		t.Fatalf("latest = %q", got)
	}
	if got := get(t, c, esv1.ExternalSecretDataRemoteRef{Key: "apps/web", Property: "password", Version: "1"}); got != "v1-pw" {
		t.Fatalf("version 1 = %q", got)
	}
	// A gjson path into nested data.
	if got := get(t, c, esv1.ExternalSecretDataRemoteRef{Key: "apps/web", Property: "nested.k"}); got != "1" {
		t.Fatalf("nested.k = %q", got)
	}
	// No property: the whole secret as JSON.
	whole, err := c.GetSecret(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/web"})
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, whole, map[string]any{"password": "v2-pw", "nested": map[string]any{"k": 1}})
	// The key with the mount and data/ in it resolves to the same secret.
	if got := get(t, c, esv1.ExternalSecretDataRemoteRef{Key: "secret/data/apps/web", Property: "password"}); got != "v2-pw" {
		t.Fatalf("full path = %q", got)
	}
	// A missing secret, a missing property.
	if _, err := c.GetSecret(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/none"}); !errors.Is(err, esv1.NoSecretError{}) {
		t.Fatalf("missing secret: %v, want NoSecretError", err)
	}
	_, err = c.GetSecret(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/web", Property: "nope"})
	mustContain(t, err, `cannot find secret data for key: "nope"`)
	// A deleted latest version reads as no secret.
	put(t, "secret", "apps/gone", map[string]any{"a": "b"})
	if _, err := root(t).Logical().Delete("secret/data/apps/gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecret(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/gone"}); !errors.Is(err, esv1.NoSecretError{}) {
		t.Fatalf("deleted secret: %v, want NoSecretError", err)
	}
}

func TestGetSecretMetadataPolicyFetch(t *testing.T) {
	put(t, "secret", "apps/tagged", map[string]any{"x": "y"})
	if _, err := root(t).Logical().Write("secret/metadata/apps/tagged",
		map[string]any{"custom_metadata": map[string]any{"team": "web", "env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	c := tokenStore(t, "secret", esv1.VaultKVStoreV2)
	fetch := esv1.ExternalSecretDataRemoteRef{Key: "apps/tagged", MetadataPolicy: esv1.ExternalSecretMetadataPolicyFetch}
	b, err := c.GetSecret(context.Background(), fetch)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, b, map[string]any{"team": "web", "env": "prod"})
	fetch.Property = "team"
	if got := get(t, c, fetch); got != "web" {
		t.Fatalf("team = %q", got)
	}
	// No custom metadata: nothing, and no error.
	put(t, "secret", "apps/plain", map[string]any{"x": "y"})
	b, err = c.GetSecret(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: "apps/plain", MetadataPolicy: esv1.ExternalSecretMetadataPolicyFetch})
	if err != nil || b != nil {
		t.Fatalf("no custom metadata: %q, %v", b, err)
	}
	_, err = c.GetSecret(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: "apps/absent", MetadataPolicy: esv1.ExternalSecretMetadataPolicyFetch})
	mustContain(t, err, "secret not found")
}

func TestGetSecretMap(t *testing.T) {
	put(t, "secret", "apps/map", map[string]any{"user": "u", "pass": "p", "obj": map[string]any{"a": "b"}})
	c := tokenStore(t, "secret", esv1.VaultKVStoreV2)
	m, err := c.GetSecretMap(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: "apps/map"})
	if err != nil {
		t.Fatal(err)
	}
	if string(m["user"]) != "u" || string(m["pass"]) != "p" || string(m["obj"]) != `{"a":"b"}` || len(m) != 3 {
		t.Fatalf("GetSecretMap = %q", m)
	}
	m, err = c.GetSecretMap(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: "apps/map", Property: "obj"})
	if err != nil || len(m) != 1 || string(m["a"]) != "b" {
		t.Fatalf("GetSecretMap(property) = %q, %v", m, err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sameKeys(t *testing.T, got map[string][]byte, want ...string) {
	t.Helper()
	g := map[string]bool{}
	for _, k := range keys(got) {
		g[k] = true
	}
	w := map[string]bool{}
	for _, k := range want {
		w[k] = true
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("keys %v, want %v", keys(got), want)
	}
}

func TestGetAllSecrets(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"team/a", "team/b", "team/deep/c", "other/x"} {
		put(t, "secret", p, map[string]any{"v": p})
	}
	if _, err := root(t).Logical().Write("secret/metadata/team/deep/c",
		map[string]any{"custom_metadata": map[string]any{"owner": "deep"}}); err != nil {
		t.Fatal(err)
	}
	c := tokenStore(t, "secret", esv1.VaultKVStoreV2)
	// find.path with a name regexp: the listing recurses into team/deep/.
	got, err := c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Path: ptr("team"), Name: &esv1.FindName{RegExp: ".*"}})
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, "team/a", "team/b", "team/deep/c")
	jsonEq(t, got["team/deep/c"], map[string]any{"v": "team/deep/c"})
	got, err = c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Path: ptr("team"), Name: &esv1.FindName{RegExp: "^team/[ab]$"}})
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, "team/a", "team/b")
	// No path: the whole mount.
	got, err = c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Name: &esv1.FindName{RegExp: "^other/"}})
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, "other/x")
	// Tags: custom_metadata.
	got, err = c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Path: ptr("team"), Tags: map[string]string{"owner": "deep"}})
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, "team/deep/c")
	// A path with nothing under it.
	_, err = c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Path: ptr("nothing"), Name: &esv1.FindName{RegExp: ".*"}})
	if !errors.Is(err, esv1.NoSecretError{}) {
		t.Fatalf("empty path: %v, want NoSecretError", err)
	}
}

func pushData(secretKey, remoteKey, property string) esv1alpha1.PushSecretData {
	return esv1alpha1.PushSecretData{Match: esv1alpha1.PushSecretMatch{SecretKey: secretKey,
		RemoteRef: esv1alpha1.PushSecretRemoteRef{RemoteKey: remoteKey, Property: property}}}
}

func TestPushSecretAndDeleteKV2(t *testing.T) {
	ctx := context.Background()
	r := root(t)
	c := tokenStore(t, "secret", esv1.VaultKVStoreV2)
	src := secret("db", map[string]string{"password": "p1", "user": "app"})
	// The whole Secret, as JSON; metadata first marks it as managed.
	if err := c.PushSecret(ctx, src, pushData("", "pushed/db", "")); err != nil {
		t.Fatal(err)
	}
	s, err := r.KVv2("secret").Get(ctx, "pushed/db")
	if err != nil || !reflect.DeepEqual(s.Data, map[string]any{"password": "p1", "user": "app"}) {
		t.Fatalf("pushed = %v, %v", s, err)
	}
	if s.CustomMetadata["managed-by"] != "external-secrets" || s.VersionMetadata.Version != 1 {
		t.Fatalf("metadata = %v, version %d", s.CustomMetadata, s.VersionMetadata.Version)
	}
	// Unchanged: no new version.
	if err := c.PushSecret(ctx, src, pushData("", "pushed/db", "")); err != nil {
		t.Fatal(err)
	}
	// One key into a property of the managed secret: merged, a new version.
	src.Data["password"] = []byte("p2")
	if err := c.PushSecret(ctx, src, pushData("password", "pushed/db", "password")); err != nil {
		t.Fatal(err)
	}
	s, _ = r.KVv2("secret").Get(ctx, "pushed/db")
	if s.Data["password"] != "p2" || s.Data["user"] != "app" || s.VersionMetadata.Version != 2 {
		t.Fatalf("after property push: %v version %d", s.Data, s.VersionMetadata.Version)
	}
	exists, err := c.SecretExists(ctx, esv1alpha1.PushSecretRemoteRef{RemoteKey: "pushed/db", Property: "user"})
	if err != nil || !exists {
		t.Fatalf("SecretExists = %v, %v", exists, err)
	}
	// DeleteSecret of a property rewrites the rest; of the secret removes data and metadata.
	if err := c.DeleteSecret(ctx, esv1alpha1.PushSecretRemoteRef{RemoteKey: "pushed/db", Property: "user"}); err != nil {
		t.Fatal(err)
	}
	s, _ = r.KVv2("secret").Get(ctx, "pushed/db")
	if !reflect.DeepEqual(s.Data, map[string]any{"password": "p2"}) {
		t.Fatalf("after property delete: %v", s.Data)
	}
	if err := c.DeleteSecret(ctx, esv1alpha1.PushSecretRemoteRef{RemoteKey: "pushed/db"}); err != nil {
		t.Fatal(err)
	}
	if m, err := r.Logical().Read("secret/metadata/pushed/db"); err != nil || m != nil {
		t.Fatalf("metadata after DeleteSecret: %v, %v", m, err)
	}
	exists, err = c.SecretExists(ctx, esv1alpha1.PushSecretRemoteRef{RemoteKey: "pushed/db"})
	if err != nil || exists {
		t.Fatalf("SecretExists after delete = %v, %v", exists, err)
	}
}

func TestPushSecretRefusesUnmanaged(t *testing.T) {
	ctx := context.Background()
	put(t, "secret", "foreign/db", map[string]any{"password": "theirs"})
	c := tokenStore(t, "secret", esv1.VaultKVStoreV2)
	err := c.PushSecret(ctx, secret("db", map[string]string{"password": "ours"}), pushData("password", "foreign/db", "password"))
	mustContain(t, err, "secret not managed by external-secrets")
	// DeleteSecret leaves a secret it does not manage alone.
	if err := c.DeleteSecret(ctx, esv1alpha1.PushSecretRemoteRef{RemoteKey: "foreign/db"}); err != nil {
		t.Fatal(err)
	}
	s, err := root(t).KVv2("secret").Get(ctx, "foreign/db")
	if err != nil || s.Data["password"] != "theirs" {
		t.Fatalf("foreign secret = %v, %v", s, err)
	}
}

func TestKV1(t *testing.T) {
	ctx := context.Background()
	put(t, "kv1", "apps/web", map[string]any{"password": "pw", "nested": map[string]any{"k": "v"}})
	put(t, "kv1", "apps/deep/x", map[string]any{"v": "x"})
	c := tokenStore(t, "kv1", esv1.VaultKVStoreV1)
	if got := get(t, c, esv1.ExternalSecretDataRemoteRef{Key: "apps/web", Property: "nested.k"}); got != "v" {
		t.Fatalf("nested.k = %q", got)
	}
	m, err := c.GetSecretMap(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/web"})
	if err != nil || string(m["password"]) != "pw" {
		t.Fatalf("GetSecretMap = %q, %v", m, err)
	}
	got, err := c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Path: ptr("apps"), Name: &esv1.FindName{RegExp: ".*"}})
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, "apps/web", "apps/deep/x")
	_, err = c.GetSecret(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/web", MetadataPolicy: esv1.ExternalSecretMetadataPolicyFetch})
	mustContain(t, err, "cannot perform metadata fetch operations with kv version v1")
	_, err = c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Tags: map[string]string{"a": "b"}})
	mustContain(t, err, "cannot perform find by tag operations with kv version v1")
	// PushSecret on v1 keeps the managed-by label inside the data.
	src := secret("db", map[string]string{"password": "p1"})
	if err := c.PushSecret(ctx, src, pushData("password", "pushed/db", "password")); err != nil {
		t.Fatal(err)
	}
	s, err := root(t).Logical().Read("kv1/pushed/db")
	if err != nil || s == nil || s.Data["password"] != "p1" {
		t.Fatalf("pushed = %v, %v", s, err)
	}
	if cm, _ := s.Data["custom_metadata"].(map[string]any); cm["managed-by"] != "external-secrets" {
		t.Fatalf("custom_metadata = %v", s.Data["custom_metadata"])
	}
	err = c.PushSecret(ctx, src, pushData("password", "apps/web", "password"))
	mustContain(t, err, "secret not managed by external-secrets")
	if err := c.DeleteSecret(ctx, esv1alpha1.PushSecretRemoteRef{RemoteKey: "pushed/db"}); err != nil {
		t.Fatal(err)
	}
	if s, err := root(t).Logical().Read("kv1/pushed/db"); err != nil || s != nil {
		t.Fatalf("after DeleteSecret: %v, %v", s, err)
	}
}
