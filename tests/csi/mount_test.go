package csi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// kvPath is this client's KV v2 secret, written fresh by each test that needs it.
const kvPath = "secret/data/apps/" + clientTag

func writeKV(t *testing.T, apiKey string) {
	t.Helper()
	blob := base64.StdEncoding.EncodeToString([]byte("\x00bin:" + apiKey))
	_, err := rootClient(t).Logical().WriteWithContext(ctx(t), kvPath, map[string]interface{}{
		"data": map[string]interface{}{"api_key": apiKey, "blob": blob, "port": 5432}})
	if err != nil {
		t.Fatalf("write %s: %v", kvPath, err)
	}
}

func mustMount(t *testing.T, p *provider, objects ...object) mountResult {
	t.Helper()
	res, err := p.mountObjects(ctx(t), objects)
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	return res
}

func wantFile(t *testing.T, res mountResult, name, want string) {
	t.Helper()
	if got := string(res.files[name]); got != want {
		t.Fatalf("file %s = %q, want %q", name, got, want)
	}
}

func TestMountKVKeysWholeSecretAndEncodings(t *testing.T) {
	for _, v := range []string{"key-v1", "key-v2", "key-v3"} {
		writeKV(t, v)
	}
	requests := 0
	p := newProvider(t, env["SEALBOX_JWT"], &requests)
	res := mustMount(t, p,
		object{ObjectName: "pinned", SecretPath: kvPath + "?version=2", SecretKey: "api_key"},
		object{ObjectName: "latest", SecretPath: kvPath, SecretKey: "api_key"},
		object{ObjectName: "blob", SecretPath: kvPath, SecretKey: "blob", Encoding: "base64"},
		object{ObjectName: "port", SecretPath: kvPath, SecretKey: "port"},
		object{ObjectName: "whole", SecretPath: kvPath})
	wantFile(t, res, "pinned", "key-v2")
	wantFile(t, res, "latest", "key-v3")
	wantFile(t, res, "blob", "\x00bin:key-v3")
	wantFile(t, res, "port", "5432")
	// One login, then one GET per distinct secretPath (the query is part of it).
	if p.logins != 1 || requests != 3 {
		t.Fatalf("%d logins and %d requests, want 1 login and 3 requests", p.logins, requests)
	}
	var whole struct {
		LeaseID       string `json:"lease_id"`
		LeaseDuration int    `json:"lease_duration"`
		Renewable     bool   `json:"renewable"`
		Data          struct {
			Data     map[string]interface{} `json:"data"`
			Metadata struct {
				Version int `json:"version"`
			} `json:"metadata"`
		} `json:"data"`
		Auth *struct{} `json:"auth"`
	}
	if err := json.Unmarshal(res.files["whole"], &whole); err != nil {
		t.Fatalf("whole secret %s: %v", res.files["whole"], err)
	}
	if whole.Data.Data["api_key"] != "key-v3" || whole.Data.Metadata.Version < 3 || whole.LeaseID != "" ||
		whole.LeaseDuration != 0 || whole.Renewable || whole.Auth != nil {
		t.Fatalf("whole secret = %s", res.files["whole"])
	}
	_, err := p.mountObjects(ctx(t), []object{{ObjectName: "missing", SecretPath: kvPath, SecretKey: "nope"}})
	if err == nil || !strings.Contains(err.Error(), `key "nope" does not exist`) {
		t.Fatalf("a missing key: %v", err)
	}
}

func TestSecondMountSeesNewValueAndVersion(t *testing.T) {
	writeKV(t, "rotate-1")
	latest := object{ObjectName: "latest", SecretPath: kvPath, SecretKey: "api_key"}
	p := newProvider(t, env["SEALBOX_JWT"], nil)
	first := mustMount(t, p, latest)
	again := mustMount(t, p, latest)
	if again.versions["latest"] != first.versions["latest"] {
		t.Fatalf("an unchanged secret changed version: %s, %s", first.versions["latest"], again.versions["latest"])
	}
	writeKV(t, "rotate-2")
	second := mustMount(t, p, latest)
	wantFile(t, first, "latest", "rotate-1")
	wantFile(t, second, "latest", "rotate-2")
	if second.versions["latest"] == first.versions["latest"] {
		t.Fatalf("the object version did not change with the secret: %s", second.versions["latest"])
	}
	if p.logins != 1 {
		t.Fatalf("%d logins for three mounts of one pod, want 1 (the token is cached)", p.logins)
	}
}

func TestMountDatabaseCredentialsLogIn(t *testing.T) {
	requests := 0
	p := newProvider(t, env["SEALBOX_JWT"], &requests)
	res := mustMount(t, p,
		object{ObjectName: "db-user", SecretPath: "db/creds/web", SecretKey: "username"},
		object{ObjectName: "db-pass", SecretPath: "db/creds/web", SecretKey: "password"},
		object{ObjectName: "db-lease", SecretPath: "db/creds/web"})
	if requests != 2 {
		t.Fatalf("%d requests, want a login and ONE read of the credentials", requests)
	}
	var lease struct {
		LeaseID       string `json:"lease_id"`
		LeaseDuration int    `json:"lease_duration"`
		Renewable     bool   `json:"renewable"`
	}
	if err := json.Unmarshal(res.files["db-lease"], &lease); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(lease.LeaseID, "db/creds/web/") || lease.LeaseDuration != 3600 || !lease.Renewable {
		t.Fatalf("database lease = %+v", lease)
	}
	user, pass := string(res.files["db-user"]), string(res.files["db-pass"])
	cmd := exec.Command(env["SEALBOX_PSQL"], "-h", "127.0.0.1", "-p", env["SEALBOX_PG_PORT"], "-U", user,
		"-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc", "SELECT current_user")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pass)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != user {
		t.Fatalf("log in to PostgreSQL with the mounted credentials: %v: %s", err, out)
	}
}

func TestForbiddenReadLogsInOnceMore(t *testing.T) {
	writeKV(t, "relogin")
	latest := object{ObjectName: "latest", SecretPath: kvPath, SecretKey: "api_key"}
	p := newProvider(t, env["SEALBOX_JWT"], nil)
	mustMount(t, p, latest)
	// The providers never renew: a revoked or expired token answers 403
	// (never 401), and the read logs in once more and succeeds.
	if err := rootClient(t).Auth().Token().RevokeTreeWithContext(ctx(t), p.c.Token()); err != nil {
		t.Fatal(err)
	}
	wantFile(t, mustMount(t, p, latest), "latest", "relogin")
	if p.logins != 2 {
		t.Fatalf("%d logins, want 2", p.logins)
	}
}

func TestDeniedPathIsForbidden(t *testing.T) {
	p := newProvider(t, env["SEALBOX_JWT"], nil)
	_, err := p.mountObjects(ctx(t), []object{{ObjectName: "other", SecretPath: "secret/data/other", SecretKey: "k"}})
	requireStatus(t, err, http.StatusForbidden, "permission denied")
	want := 1 // openbao-csi-provider does not log in again with a token it just made
	if reloginAfterFreshLogin {
		want = 2
	}
	if p.logins != want {
		t.Fatalf("%d logins for a read the policy denies, want %d", p.logins, want)
	}
}

func requireStatus(t *testing.T, err error, status int, want string) {
	t.Helper()
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != status || !strings.Contains(fmt.Sprint(re.Errors), want) {
		t.Fatalf("want %d %q, got %v", status, want, err)
	}
}

func TestMountWithTheClassAudience(t *testing.T) {
	writeKV(t, "own-audience")
	p := newProvider(t, env["SEALBOX_JWT_OWN_AUDIENCE"], nil)
	p.role = "web-own-audience"
	wantFile(t, mustMount(t, p, object{ObjectName: "latest", SecretPath: kvPath, SecretKey: "api_key"}),
		"latest", "own-audience")
	p = newProvider(t, env["SEALBOX_JWT"], nil) // the default audience "vault" is not this role's
	p.role = "web-own-audience"
	_, err := p.mountObjects(ctx(t), []object{{ObjectName: "latest", SecretPath: kvPath, SecretKey: "api_key"}})
	requireStatus(t, err, http.StatusForbidden, "invalid audience (aud) claim")
}

func TestRefusedLoginsAndSealedServer(t *testing.T) {
	obj := object{ObjectName: "latest", SecretPath: kvPath, SecretKey: "api_key"}
	for jwt, want := range map[string]string{
		env["SEALBOX_JWT_WRONG_AUDIENCE"]: "invalid audience (aud) claim",
		env["SEALBOX_JWT_OTHER_SA"]:       "service account name not authorized",
	} {
		_, err := newProvider(t, jwt, nil).mountObjects(ctx(t), []object{obj})
		requireStatus(t, err, http.StatusForbidden, want)
	}
	root := rootClient(t)
	if err := root.Sys().SealWithContext(ctx(t)); err != nil {
		t.Fatal(err)
	}
	_, err := newProvider(t, env["SEALBOX_JWT"], nil).mountObjects(ctx(t), []object{obj})
	if st, uerr := root.Sys().UnsealWithContext(ctx(t), env["SEALBOX_UNSEAL_KEY"]); uerr != nil || st.Sealed {
		t.Fatalf("unseal: %+v, %v", st, uerr)
	}
	requireStatus(t, err, http.StatusServiceUnavailable, "Vault is sealed")
}
