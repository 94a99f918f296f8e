package eso

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	esmeta "github.com/external-secrets/external-secrets/apis/meta/v1"
)

// accessors is the set of live token accessors, to see the provider's login
// token appear and its Close revoke it.
func accessors(t *testing.T) map[string]bool {
	t.Helper()
	s, err := root(t).Logical().List("auth/token/accessors")
	if err != nil || s == nil {
		t.Fatalf("list accessors: %v", err)
	}
	set := map[string]bool{}
	for _, a := range s.Data["keys"].([]any) {
		set[a.(string)] = true
	}
	return set
}

func added(before, after map[string]bool) []string {
	var out []string
	for a := range after {
		if !before[a] {
			out = append(out, a)
		}
	}
	return out
}

// readsAndRevokes opens a client with a login method, reads a secret with
// it, validates it and checks that Close revokes exactly the token it got.
func readsAndRevokes(t *testing.T, f fixture) {
	t.Helper()
	readsAndRevokesValidating(t, f, esv1.ValidationResultReady)
}

func readsAndRevokesValidating(t *testing.T, f fixture, want esv1.ValidationResult) {
	t.Helper()
	put(t, "secret", "auth/probe", map[string]any{"who": "eso"})
	before := accessors(t)
	c := f.open(t)
	login := added(before, accessors(t))
	if len(login) != 1 {
		t.Fatalf("want one new token after login, got %d", len(login))
	}
	got, err := c.GetSecret(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: "auth/probe", Property: "who"})
	if err != nil || string(got) != "eso" {
		t.Fatalf("GetSecret = %q, %v", got, err)
	}
	if r, err := c.Validate(); err != nil || r != want {
		t.Fatalf("Validate = %v, %v; want %v", r, err, want)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if accessors(t)[login[0]] {
		t.Fatal("Close did not revoke the login token (revoke-self)")
	}
}

func TestTokenAuth(t *testing.T) {
	token := env(t, "SEALBOX_ESO_TOKEN")
	auth := &esv1.VaultAuth{TokenSecretRef: ptr(ref("vault-token", "token"))}
	f := newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth),
		secret("vault-token", map[string]string{"token": token}))
	put(t, "secret", "auth/probe", map[string]any{"who": "eso"})
	c := f.open(t)
	got, err := c.GetSecret(context.Background(), esv1.ExternalSecretDataRemoteRef{Key: "auth/probe", Property: "who"})
	if err != nil || string(got) != "eso" {
		t.Fatalf("GetSecret = %q, %v", got, err)
	}
	if r, err := c.Validate(); err != nil || r != esv1.ValidationResultReady {
		t.Fatalf("Validate = %v, %v", r, err)
	}
	// A token from a Secret belongs to its owner: Close leaves it alone.
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := root(t).Auth().Token().Lookup(token); err != nil {
		t.Fatalf("Close revoked a token it does not own: %v", err)
	}
}

// Kubernetes auth with spec.auth.kubernetes.secretRef: a Secret holding a
// ServiceAccount JWT minted by the TokenReview stand-in.
func TestKubernetesAuthSecretRef(t *testing.T) {
	auth := &esv1.VaultAuth{Kubernetes: &esv1.VaultKubernetesAuth{
		Path: "kubernetes", Role: "eso", SecretRef: ptr(ref("sa-jwt", "token"))}}
	f := newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth),
		secret("sa-jwt", map[string]string{"token": env(t, "SEALBOX_K8S_JWT")}))
	readsAndRevokes(t, f)
}

// serviceAccountRef: the provider mints the token with TokenRequest through
// its own clientset (from KUBECONFIG: the stand-in, which serves
// TokenRequest; the fake client cannot), for the API audience and then for
// the audience "vault" that the role eso-aud requires.
func TestKubernetesAuthServiceAccountRef(t *testing.T) {
	for role, aud := range map[string][]string{"eso": nil, "eso-aud": {"vault"}} {
		auth := &esv1.VaultAuth{Kubernetes: &esv1.VaultKubernetesAuth{Path: "kubernetes", Role: role,
			ServiceAccountRef: &esmeta.ServiceAccountSelector{Name: "external-secrets", Audiences: aud}}}
		readsAndRevokes(t, newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth)))
	}
	// Without the audience the role requires: Sealbox refuses the login.
	auth := &esv1.VaultAuth{Kubernetes: &esv1.VaultKubernetesAuth{Path: "kubernetes", Role: "eso-aud",
		ServiceAccountRef: &esmeta.ServiceAccountSelector{Name: "external-secrets"}}}
	_, err := newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth)).tryOpen()
	mustContain(t, err, "unable to log in with Kubernetes auth", "Code: 403")
}

// serviceAccountRef in a ClusterSecretStore when TokenRequest is refused (an
// API server before 1.24, or no RBAC for it: KUBECONFIG here is anonymous):
// the provider falls back to the ServiceAccount's legacy token Secret, which
// the fake client holds.
func TestKubernetesAuthServiceAccountLegacySecret(t *testing.T) {
	t.Setenv("KUBECONFIG", env(t, "SEALBOX_KUBECONFIG_ANONYMOUS"))
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "external-secrets", Namespace: ns},
		Secrets: []corev1.ObjectReference{{Name: "external-secrets-token"}}}
	auth := &esv1.VaultAuth{Kubernetes: &esv1.VaultKubernetesAuth{Path: "kubernetes", Role: "eso",
		ServiceAccountRef: &esmeta.ServiceAccountSelector{Name: "external-secrets", Namespace: ptr(ns)}}}
	f := newFixture(t, esv1.ClusterSecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth), sa,
		secret("external-secrets-token", map[string]string{"token": env(t, "SEALBOX_K8S_LEGACY_JWT")}))
	readsAndRevokes(t, f)
	// No token Secret either: ESO's error names the account.
	f = newFixture(t, esv1.ClusterSecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth), sa)
	_, err := f.tryOpen()
	mustContain(t, err, `cannot request Kubernetes service account token for service account "external-secrets"`)
}

func TestKubernetesAuthRejectsABadJWT(t *testing.T) {
	auth := &esv1.VaultAuth{Kubernetes: &esv1.VaultKubernetesAuth{
		Path: "kubernetes", Role: "eso", SecretRef: ptr(ref("sa-jwt", "token"))}}
	f := newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth),
		secret("sa-jwt", map[string]string{"token": "not.a.jwt"}))
	_, err := f.tryOpen()
	mustContain(t, err, "unable to log in with Kubernetes auth", "Code: 403")
}

// AppRole with the role ID inline and the secret ID in a Secret, then with
// both in Secrets (roleRef).
func TestAppRoleAuth(t *testing.T) {
	secrets := secret("approle", map[string]string{
		"role-id": env(t, "SEALBOX_APPROLE_ROLE_ID"), "secret-id": env(t, "SEALBOX_APPROLE_SECRET_ID")})
	inline := &esv1.VaultAppRole{Path: "approle", RoleID: env(t, "SEALBOX_APPROLE_ROLE_ID"),
		SecretRef: ref("approle", "secret-id")}
	fromSecret := &esv1.VaultAppRole{Path: "approle", RoleRef: ptr(ref("approle", "role-id")),
		SecretRef: ref("approle", "secret-id")}
	for _, ar := range []*esv1.VaultAppRole{inline, fromSecret} {
		auth := &esv1.VaultAuth{AppRole: ar}
		readsAndRevokes(t, newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth), secrets))
	}
	bad := &esv1.VaultAuth{AppRole: &esv1.VaultAppRole{Path: "approle", RoleID: env(t, "SEALBOX_APPROLE_ROLE_ID"),
		SecretRef: ref("approle", "secret-id")}}
	f := newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, bad),
		secret("approle", map[string]string{"secret-id": "00000000-0000-0000-0000-000000000000"}))
	_, err := f.tryOpen()
	mustContain(t, err, "unable to log in with app role auth", "Code: 400", "invalid role or secret ID")
}

// A ClusterSecretStore whose AppRole secretRef names no namespace is
// referent: it resolves in the namespace of the ExternalSecret using it. The
// SecretStore controller, with no such namespace, gets a client that has not
// logged in; Validate is "unknown" either way (ESO cannot tell which
// namespace the check is for).
func TestClusterSecretStoreReferentAuth(t *testing.T) {
	auth := &esv1.VaultAuth{AppRole: &esv1.VaultAppRole{Path: "approle", RoleID: env(t, "SEALBOX_APPROLE_ROLE_ID"),
		SecretRef: ref("approle", "secret-id")}}
	f := newFixture(t, esv1.ClusterSecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth),
		secret("approle", map[string]string{"secret-id": env(t, "SEALBOX_APPROLE_SECRET_ID")}))
	readsAndRevokesValidating(t, f, esv1.ValidationResultUnknown)
	p, err := esv1.GetProvider(f.store)
	if err != nil {
		t.Fatal(err)
	}
	before := accessors(t)
	c, err := p.NewClient(context.Background(), f.store, f.kube, "")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Validate(); err != nil || r != esv1.ValidationResultUnknown {
		t.Fatalf("Validate = %v, %v", r, err)
	}
	if n := len(added(before, accessors(t))); n != 0 {
		t.Fatalf("%d logins without a namespace", n)
	}
}
