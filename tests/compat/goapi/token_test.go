package goapi

import (
	"encoding/json"
	"testing"
	"time"
)

// createToken makes a token with c and returns its client token and accessor.
func createToken(t *testing.T, c *Client, req *TokenCreateRequest) (string, string) {
	t.Helper()
	s, err := c.Auth().Token().Create(req)
	must(t, err, "Token().Create")
	if s.Auth == nil || s.Auth.ClientToken == "" || s.Auth.Accessor == "" {
		t.Fatalf("Create answered no auth: %+v", s)
	}
	return s.Auth.ClientToken, s.Auth.Accessor
}

func dataInt(t *testing.T, s *Secret, key string) int64 {
	t.Helper()
	n, ok := s.Data[key].(json.Number)
	if !ok {
		t.Fatalf("%s = %#v; want a number", key, s.Data[key])
	}
	v, err := n.Int64()
	must(t, err, key)
	return v
}

func TestTokenCreateLookupRenew(t *testing.T) {
	root := rootClient(t)
	s, err := root.Auth().Token().Create(&TokenCreateRequest{
		Policies: []string{"default"}, TTL: "1h", DisplayName: "app", Metadata: map[string]string{"team": "a"},
	})
	must(t, err, "Create")
	a := s.Auth
	if !a.Renewable || a.LeaseDuration != 3600 || !contains(a.Policies, "default") || a.Metadata["team"] != "a" {
		t.Fatalf("Create auth = %+v", a)
	}
	look, err := root.Auth().Token().Lookup(a.ClientToken)
	must(t, err, "Lookup")
	if look.Data["id"] != a.ClientToken || look.Data["accessor"] != a.Accessor ||
		look.Data["display_name"] != "token-app" || look.Data["path"] != "auth/token/create" ||
		look.Data["orphan"] != false || dataInt(t, look, "ttl") > 3600 || dataInt(t, look, "ttl") < 3500 {
		t.Fatalf("Lookup = %v", look.Data)
	}
	if meta, err := look.TokenMetadata(); err != nil || meta["team"] != "a" {
		t.Fatalf("Lookup TokenMetadata = %v, %v", meta, err)
	}
	byAccessor, err := root.Auth().Token().LookupAccessor(a.Accessor)
	must(t, err, "LookupAccessor")
	if byAccessor.Data["id"] != "" || byAccessor.Data["accessor"] != a.Accessor {
		t.Fatalf("LookupAccessor = %v; want the accessor and no id", byAccessor.Data)
	}
	child := newClient(t, a.ClientToken)
	self, err := child.Auth().Token().LookupSelf()
	must(t, err, "LookupSelf")
	if self.Data["accessor"] != a.Accessor {
		t.Fatalf("LookupSelf = %v", self.Data)
	}
	renewed, err := root.Auth().Token().Renew(a.ClientToken, 7200)
	must(t, err, "Renew")
	if renewed.Auth == nil || renewed.Auth.LeaseDuration != 7200 || renewed.Auth.ClientToken != a.ClientToken {
		t.Fatalf("Renew = %+v", renewed.Auth)
	}
	renewed, err = child.Auth().Token().RenewSelf(600)
	must(t, err, "RenewSelf")
	if renewed.Auth == nil || renewed.Auth.LeaseDuration != 600 {
		t.Fatalf("RenewSelf = %+v", renewed.Auth)
	}
	if ttl, err := renewed.TokenTTL(); err != nil || ttl != 600*time.Second {
		t.Fatalf("RenewSelf TokenTTL = %v, %v", ttl, err)
	}
	// A token without sudo cannot make orphans.
	_, err = child.Auth().Token().CreateOrphan(&TokenCreateRequest{})
	requireResponseError(t, err, 403, "permission denied")
}

func TestTokenOrphansRolesAndRevocation(t *testing.T) {
	root := rootClient(t)
	tokens := root.Auth().Token()
	orphan, err := tokens.CreateOrphan(&TokenCreateRequest{Policies: []string{"default"}, TTL: "10m"})
	must(t, err, "CreateOrphan")
	look, err := tokens.Lookup(orphan.Auth.ClientToken)
	must(t, err, "Lookup of the orphan")
	if look.Data["orphan"] != true || look.Data["path"] != "auth/token/create-orphan" {
		t.Fatalf("Lookup of the orphan = %v", look.Data)
	}

	// The role's explicit max TTL caps the token's TTL (the token's own
	// explicit_max_ttl stays 0, as in Vault).
	_, err = root.Logical().Write("auth/token/roles/ci", map[string]interface{}{
		"allowed_policies": []string{"default", "ci"}, "orphan": true, "token_explicit_max_ttl": "2h",
	})
	must(t, err, "writing the token role")
	byRole, err := tokens.CreateWithRole(&TokenCreateRequest{Policies: []string{"ci"}}, "ci")
	must(t, err, "CreateWithRole")
	look, err = tokens.Lookup(byRole.Auth.ClientToken)
	must(t, err, "Lookup of the role's token")
	if look.Data["role"] != "ci" || look.Data["orphan"] != true || look.Data["path"] != "auth/token/create/ci" ||
		dataInt(t, look, "creation_ttl") != 7200 {
		t.Fatalf("Lookup of the role's token = %v", look.Data)
	}
	_, err = tokens.CreateWithRole(&TokenCreateRequest{Policies: []string{"admin"}}, "ci")
	requireResponseError(t, err, 400, "must be subset of the role's allowed policies")

	// RevokeTree takes the children; RevokeOrphan leaves them, as orphans.
	must(t, root.Sys().PutPolicy("token-maker", "path \"auth/token/create\" {\n  capabilities = [\"update\"]\n}\n"),
		"PutPolicy token-maker")
	parentReq := &TokenCreateRequest{Policies: []string{"default", "token-maker"}}
	childReq := &TokenCreateRequest{Policies: []string{"default"}}
	parent, _ := createToken(t, root, parentReq)
	child, _ := createToken(t, newClient(t, parent), childReq)
	must(t, tokens.RevokeTree(parent), "RevokeTree")
	requireRevoked(t, child)
	parent, _ = createToken(t, root, parentReq)
	child, _ = createToken(t, newClient(t, parent), childReq)
	must(t, tokens.RevokeOrphan(parent), "RevokeOrphan")
	requireRevoked(t, parent)
	look, err = tokens.Lookup(child)
	must(t, err, "Lookup of the orphaned child")
	if look.Data["orphan"] != true {
		t.Fatalf("child after RevokeOrphan of its parent = %v", look.Data)
	}

	tok, accessor := createToken(t, root, &TokenCreateRequest{Policies: []string{"default"}})
	must(t, tokens.RevokeAccessor(accessor), "RevokeAccessor")
	requireRevoked(t, tok)
	tok, _ = createToken(t, root, &TokenCreateRequest{Policies: []string{"default"}})
	must(t, newClient(t, tok).Auth().Token().RevokeSelf(""), "RevokeSelf")
	requireRevoked(t, tok)
}

// requireRevoked checks how the client sees a revoked token: its own
// requests are refused with 403 permission denied, and a lookup of it with
// 403 bad token.
func requireRevoked(t *testing.T, token string) {
	t.Helper()
	_, err := newClient(t, token).Auth().Token().LookupSelf()
	requireResponseError(t, err, 403, "permission denied")
	_, err = newClient(t, token).Logical().Read("cubbyhole/x")
	requireResponseError(t, err, 403, "permission denied")
	_, err = rootClient(t).Auth().Token().Lookup(token)
	requireResponseError(t, err, 403, "bad token")
}
