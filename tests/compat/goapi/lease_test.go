package goapi

import (
	"os"
	"strings"
	"testing"
	"time"
)

// watch runs the client's LifetimeWatcher on s, renewing by increment
// seconds, until it reports done (bounded by within); it returns the
// renewals it saw and what DoneCh reported.
func watch(t *testing.T, c *Client, s *Secret, increment int, within time.Duration) ([]*Secret, error) {
	t.Helper()
	w, err := c.NewLifetimeWatcher(&LifetimeWatcherInput{
		Secret: s, Increment: increment, RenewBehavior: RenewBehaviorErrorOnErrors,
	})
	must(t, err, "NewLifetimeWatcher")
	go w.Start()
	defer w.Stop()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	var renewals []*Secret
	for {
		select {
		case r := <-w.RenewCh():
			renewals = append(renewals, r.Secret)
		case err := <-w.DoneCh():
			for len(w.RenewCh()) > 0 {
				renewals = append(renewals, (<-w.RenewCh()).Secret)
			}
			return renewals, err
		case <-deadline.C:
			t.Fatalf("the LifetimeWatcher was not done within %s (%d renewals)", within, len(renewals))
		}
	}
}

// requireRenewedToMax checks a watcher's work on a lease issued at issued
// with a TTL of 2s and a max TTL of 6s: it renewed at least twice, never for
// more than the 2s asked, kept the lease past its first 2s, and was done by
// the max TTL. Done is nil, or, when a last renewal fell just past the max
// TTL, the server's "past the max TTL" refusal: lease durations are whole
// seconds, and Vault and OpenBao round a sub-second remainder up, so the
// watcher can aim a little late; its users see the same.
func requireRenewedToMax(t *testing.T, issued time.Time, renewals []*Secret, done error, duration func(*Secret) int) {
	t.Helper()
	elapsed := time.Since(issued)
	if done != nil && !strings.Contains(done.Error(), "past the max TTL") {
		t.Fatalf("the LifetimeWatcher ended with %v", done)
	}
	if len(renewals) < 2 {
		t.Fatalf("%d renewals of a 2s lease with a 6s max TTL; want at least 2", len(renewals))
	}
	for _, r := range renewals {
		if d := duration(r); d > 2 || d < 0 {
			t.Fatalf("a renewal granted %ds; want at most the 2s asked for", d)
		}
	}
	if elapsed < 3500*time.Millisecond || elapsed > 7*time.Second {
		t.Fatalf("the watcher was done %s after issue; want well past the 2s TTL and by the 6s max TTL", elapsed)
	}
}

func TestLifetimeWatcherRenewsTokenToMaxTTL(t *testing.T) {
	root := rootClient(t)
	issued := time.Now()
	s, err := root.Auth().Token().Create(&TokenCreateRequest{
		Policies: []string{"default"}, TTL: "2s", ExplicitMaxTTL: "6s",
	})
	must(t, err, "Create")
	renewals, done := watch(t, root, s, 2, 15*time.Second)
	requireRenewedToMax(t, issued, renewals, done, func(r *Secret) int { return r.Auth.LeaseDuration })
	// At the max TTL the token expires: polled, bounded.
	token := s.Auth.ClientToken
	waitFor(t, 10*time.Second, "the token to expire at its max TTL", func() bool {
		_, err := root.Auth().Token().Lookup(token)
		return err != nil
	})
	requireRevoked(t, token)
}

// waitFor polls cond every 100ms until it holds, failing after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// databaseMount mounts the database engine on db/ with a PostgreSQL
// connection and two roles: long (1h, max 2h) and short (2s, max 6s).
func databaseMount(t *testing.T, c *Client) {
	t.Helper()
	url, user, password := os.Getenv("SEALBOX_PG_URL"), os.Getenv("SEALBOX_PG_USER"), os.Getenv("SEALBOX_PG_PASSWORD")
	if url == "" || user == "" || password == "" {
		t.Fatal("SEALBOX_PG_URL, SEALBOX_PG_USER and SEALBOX_PG_PASSWORD must name a PostgreSQL superuser " +
			"(tests/compat/test_go_api.py starts one)")
	}
	must(t, c.Sys().Mount("db", &MountInput{Type: "database"}), "Mount database")
	t.Cleanup(func() { _ = c.Sys().Unmount("db") })
	_, err := c.Logical().Write("db/config/pg", map[string]interface{}{
		"plugin_name": "postgresql-database-plugin", "connection_url": url, "username": user,
		"password": password, "allowed_roles": []string{"long", "short"},
	})
	must(t, err, "database config")
	create := "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
	for role, ttls := range map[string][2]string{"long": {"1h", "2h"}, "short": {"2s", "6s"}} {
		_, err := c.Logical().Write("db/roles/"+role, map[string]interface{}{
			"db_name": "pg", "default_ttl": ttls[0], "max_ttl": ttls[1], "creation_statements": []string{create},
		})
		must(t, err, "database role "+role)
	}
}

func readCreds(t *testing.T, c *Client, role string) *Secret {
	t.Helper()
	s, err := c.Logical().Read("db/creds/" + role)
	must(t, err, "reading db/creds/"+role)
	if s == nil || s.LeaseID == "" || !s.Renewable || s.Data["username"] == nil || s.Data["password"] == nil {
		t.Fatalf("db/creds/%s = %+v", role, s)
	}
	return s
}

func TestDatabaseLeases(t *testing.T) {
	c := rootClient(t)
	databaseMount(t, c)
	sys := c.Sys()
	creds := readCreds(t, c, "long")
	if creds.LeaseDuration != 3600 {
		t.Fatalf("lease_duration = %d; want the role's 3600", creds.LeaseDuration)
	}
	look, err := sys.Lookup(creds.LeaseID)
	must(t, err, "Sys().Lookup")
	if look.Data["id"] != creds.LeaseID || look.Data["renewable"] != true || dataInt(t, look, "ttl") > 3600 {
		t.Fatalf("Sys().Lookup = %v", look.Data)
	}
	renewed, err := sys.Renew(creds.LeaseID, 600)
	must(t, err, "Sys().Renew")
	if renewed.LeaseID != creds.LeaseID || renewed.LeaseDuration != 600 || !renewed.Renewable {
		t.Fatalf("Sys().Renew = %+v", renewed)
	}
	must(t, sys.Revoke(creds.LeaseID), "Sys().Revoke")
	_, err = sys.Lookup(creds.LeaseID)
	requireResponseError(t, err, 400, "invalid lease")
	_, err = sys.Renew(creds.LeaseID, 600)
	requireResponseError(t, err, 400, "lease not found")

	a, b := readCreds(t, c, "long"), readCreds(t, c, "long")
	must(t, sys.RevokePrefix("db/creds/long"), "Sys().RevokePrefix")
	for _, s := range []*Secret{a, b} {
		_, err = sys.Lookup(s.LeaseID)
		requireResponseError(t, err, 400, "invalid lease")
	}
}

func TestLifetimeWatcherRenewsDatabaseLeaseToMaxTTL(t *testing.T) {
	c := rootClient(t)
	databaseMount(t, c)
	issued := time.Now()
	creds := readCreds(t, c, "short")
	if creds.LeaseDuration != 2 {
		t.Fatalf("lease_duration = %d; want the role's 2", creds.LeaseDuration)
	}
	renewals, done := watch(t, c, creds, 2, 15*time.Second)
	requireRenewedToMax(t, issued, renewals, done, func(r *Secret) int { return r.LeaseDuration })
	waitFor(t, 10*time.Second, "the lease to expire at its max TTL", func() bool {
		_, err := c.Sys().Lookup(creds.LeaseID)
		return err != nil
	})
	_, err := c.Sys().Lookup(creds.LeaseID)
	requireResponseError(t, err, 400, "invalid lease")
}
