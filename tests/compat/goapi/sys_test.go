package goapi

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSysHealthAndLeader(t *testing.T) {
	c := newClient(t, "")
	h, err := c.Sys().Health()
	must(t, err, "Health")
	if !h.Initialized || h.Sealed || h.Standby || h.Version == "" || h.ServerTimeUTC == 0 {
		t.Fatalf("Health = %+v", h)
	}
	l, err := c.Sys().Leader()
	must(t, err, "Leader")
	if l.HAEnabled || l.IsSelf || l.LeaderAddress != "" {
		t.Fatalf("Leader of a single server without HA = %+v", l)
	}
}

func TestSysMounts(t *testing.T) {
	c := rootClient(t)
	sys := c.Sys()
	must(t, sys.Mount("team/secrets", &MountInput{
		Type: "kv", Description: "team secrets", Options: map[string]string{"version": "2"},
		Config: MountConfigInput{DefaultLeaseTTL: "1h", MaxLeaseTTL: "2h"},
	}), "Mount")
	mounts, err := sys.ListMounts()
	must(t, err, "ListMounts")
	m, ok := mounts["team/secrets/"]
	if !ok || m.Type != "kv" || m.Description != "team secrets" || m.Options["version"] != "2" ||
		m.Config.DefaultLeaseTTL != 3600 || m.Config.MaxLeaseTTL != 7200 || m.Accessor == "" {
		t.Fatalf("ListMounts[team/secrets/] = %+v (present %v)", m, ok)
	}
	for _, builtin := range []string{"sys/", "cubbyhole/"} {
		if _, ok := mounts[builtin]; !ok {
			t.Fatalf("ListMounts has no %s: %v", builtin, mapKeys(mounts))
		}
	}
	must(t, sys.TuneMount("team/secrets", MountConfigInput{DefaultLeaseTTL: "30m", Description: ptr("tuned")}),
		"TuneMount")
	cfg, err := sys.MountConfig("team/secrets")
	must(t, err, "MountConfig")
	if cfg.DefaultLeaseTTL != 1800 || cfg.MaxLeaseTTL != 7200 {
		t.Fatalf("MountConfig after TuneMount = %+v", cfg)
	}
	mounts, err = sys.ListMounts()
	must(t, err, "ListMounts after TuneMount")
	if d := mounts["team/secrets/"].Description; d != "tuned" {
		t.Fatalf("description after TuneMount = %q", d)
	}
	err = sys.Mount("team/secrets", &MountInput{Type: "kv"})
	requireResponseError(t, err, 400, "path is already in use at team/secrets/")
	err = sys.Mount("other", &MountInput{Type: "no-such-engine"})
	requireResponseError(t, err, 400, "plugin not found in the catalog") // without the type: docs/compatibility.md
	must(t, sys.Unmount("team/secrets"), "Unmount")
	mounts, err = sys.ListMounts()
	must(t, err, "ListMounts after Unmount")
	if _, ok := mounts["team/secrets/"]; ok {
		t.Fatal("the mount is still listed after Unmount")
	}
}

func TestSysAuthMethods(t *testing.T) {
	c := rootClient(t)
	sys := c.Sys()
	must(t, sys.EnableAuthWithOptions("k8s-a", &EnableAuthOptions{
		Type: "kubernetes", Description: "cluster a", Config: MountConfigInput{DefaultLeaseTTL: "20m"},
	}), "EnableAuthWithOptions")
	t.Cleanup(func() { _ = sys.DisableAuth("k8s-a") })
	auths, err := sys.ListAuth()
	must(t, err, "ListAuth")
	a, ok := auths["k8s-a/"]
	if !ok || a.Type != "kubernetes" || a.Description != "cluster a" || a.Accessor == "" ||
		a.Config.DefaultLeaseTTL != 1200 {
		t.Fatalf("ListAuth[k8s-a/] = %+v (present %v)", a, ok)
	}
	if tok, ok := auths["token/"]; !ok || tok.Type != "token" {
		t.Fatalf("ListAuth has no token/ method: %v", auths)
	}
	must(t, sys.DisableAuth("k8s-a"), "DisableAuth")
	auths, err = sys.ListAuth()
	must(t, err, "ListAuth after DisableAuth")
	if _, ok := auths["k8s-a/"]; ok {
		t.Fatal("the auth method is still listed after DisableAuth")
	}
}

func TestSysPolicies(t *testing.T) {
	c := rootClient(t)
	sys := c.Sys()
	rules := "path \"kv2/data/app\" {\n  capabilities = [\"read\"]\n}\n"
	must(t, sys.PutPolicy("app-read", rules), "PutPolicy")
	got, err := sys.GetPolicy("app-read")
	must(t, err, "GetPolicy")
	if got != rules {
		t.Fatalf("GetPolicy = %q; want %q", got, rules)
	}
	names, err := sys.ListPolicies()
	must(t, err, "ListPolicies")
	for _, want := range []string{"app-read", "default", "root"} {
		if !contains(names, want) {
			t.Fatalf("ListPolicies = %v; want %s in it", names, want)
		}
	}
	err = sys.PutPolicy("broken", "path \"x\" { capabilities = [\"fly\"] }")
	requireResponseError(t, err, 400, "fly")
	must(t, sys.DeletePolicy("app-read"), "DeletePolicy")
	if got, err := sys.GetPolicy("app-read"); err != nil || got != "" {
		t.Fatalf("GetPolicy after DeletePolicy = %q, %v; want \"\", nil", got, err)
	}
	err = sys.DeletePolicy("root")
	requireResponseError(t, err, 400, "cannot delete")
}

func TestSysAudit(t *testing.T) {
	c := rootClient(t)
	sys := c.Sys()
	logPath := filepath.Join(t.TempDir(), "audit.log")
	must(t, sys.EnableAuditWithOptions("file-a", &EnableAuditOptions{
		Type: "file", Description: "to a file", Options: map[string]string{"file_path": logPath},
	}), "EnableAuditWithOptions")
	audits, err := sys.ListAudit()
	must(t, err, "ListAudit")
	a, ok := audits["file-a/"]
	if !ok || a.Type != "file" || a.Description != "to a file" || a.Options["file_path"] != logPath {
		t.Fatalf("ListAudit[file-a/] = %+v (present %v)", a, ok)
	}
	_, err = c.Auth().Token().LookupSelf()
	must(t, err, "LookupSelf (an audited request)")
	must(t, sys.DisableAudit("file-a"), "DisableAudit")
	log, err := os.ReadFile(logPath)
	must(t, err, "reading the audit log")
	if !strings.Contains(string(log), "auth/token/lookup-self") || strings.Contains(string(log), rootToken) {
		t.Fatalf("the audit log has no hashed lookup-self request:\n%.2000s", log)
	}
	audits, err = sys.ListAudit()
	must(t, err, "ListAudit after DisableAudit")
	if !reflect.DeepEqual(mapKeys(audits), []string{}) {
		t.Fatalf("ListAudit after DisableAudit = %v", mapKeys(audits))
	}
}

func mapKeys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
