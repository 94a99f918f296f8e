package eso

import (
	"context"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	esv1alpha1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1alpha1"
)

// A token revoked under the provider: every call reports Vault's 403, and
// Validate marks the store invalid.
func TestRevokedToken(t *testing.T) {
	ctx := context.Background()
	r := root(t)
	tok, err := r.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"eso"}})
	if err != nil {
		t.Fatal(err)
	}
	auth := &esv1.VaultAuth{TokenSecretRef: ptr(ref("vault-token", "token"))}
	f := newFixture(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, auth),
		secret("vault-token", map[string]string{"token": tok.Auth.ClientToken}))
	c := f.open(t)
	if err := r.Auth().Token().RevokeTree(tok.Auth.ClientToken); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSecret(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/web"})
	mustContain(t, err, "cannot read secret data from Vault:", "Code: 403", "permission denied")
	_, err = c.GetAllSecrets(ctx, esv1.ExternalSecretFind{Name: &esv1.FindName{RegExp: ".*"}})
	mustContain(t, err, "cannot read secret data from Vault:", "Code: 403", "permission denied")
	err = c.PushSecret(ctx, secret("db", map[string]string{"p": "v"}), pushData("p", "pushed/revoked", "p"))
	mustContain(t, err, "Code: 403", "permission denied")
	v, err := c.Validate()
	mustContain(t, err, "invalid vault credentials:", "Code: 403", "permission denied")
	if v != esv1.ValidationResultError {
		t.Fatalf("Validate = %v", v)
	}
}

// A sealed server: logins and reads report Vault's 503 "Vault is sealed";
// after unsealing the same store works again. The stores do not retry
// (spec.retrySettings.maxRetries 0) but for one read with the default
// retries, which ends in the same error.
func TestSealedServer(t *testing.T) {
	ctx := context.Background()
	r := root(t)
	put(t, "secret", "apps/sealed", map[string]any{"k": "v"})
	noRetry := &esv1.SecretStoreRetrySettings{MaxRetries: ptr(int32(0))}
	tokenAuth := &esv1.VaultAuth{TokenSecretRef: ptr(ref("vault-token", "token"))}
	tokenSecret := secret("vault-token", map[string]string{"token": env(t, "SEALBOX_ESO_TOKEN")})
	tokenClient := newFixtureRetrying(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2, tokenAuth),
		noRetry, tokenSecret).open(t)
	retrying := tokenStore(t, "secret", esv1.VaultKVStoreV2)
	kube := newFixtureRetrying(t, esv1.SecretStoreKind, vaultSpec(t, "secret", esv1.VaultKVStoreV2,
		&esv1.VaultAuth{Kubernetes: &esv1.VaultKubernetesAuth{Path: "kubernetes", Role: "eso", SecretRef: ptr(ref("sa-jwt", "token"))}}),
		noRetry, secret("sa-jwt", map[string]string{"token": env(t, "SEALBOX_K8S_JWT")}))
	if err := r.Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	unsealed := false
	unseal := func() {
		if st, err := r.Sys().Unseal(env(t, "SEALBOX_UNSEAL_KEY")); err != nil || st.Sealed {
			t.Fatalf("unseal: %v, %+v", err, st)
		}
		unsealed = true
	}
	t.Cleanup(func() {
		if !unsealed {
			unseal()
		}
	})
	for _, c := range []esv1.SecretsClient{tokenClient, retrying} {
		_, err := c.GetSecret(ctx, esv1.ExternalSecretDataRemoteRef{Key: "apps/sealed"})
		mustContain(t, err, "cannot read secret data from Vault:", "Code: 503", "Vault is sealed")
	}
	_, err := tokenClient.GetAllSecrets(ctx, esv1.ExternalSecretFind{Name: &esv1.FindName{RegExp: ".*"}})
	mustContain(t, err, "cannot read secret data from Vault:", "Code: 503", "Vault is sealed")
	err = tokenClient.PushSecret(ctx, secret("db", map[string]string{"p": "v"}), pushData("p", "apps/sealed", "p"))
	mustContain(t, err, "cannot read secret data from Vault:", "Code: 503", "Vault is sealed")
	err = tokenClient.DeleteSecret(ctx, esv1alpha1.PushSecretRemoteRef{RemoteKey: "apps/sealed"})
	mustContain(t, err, "Code: 503", "Vault is sealed")
	v, err := tokenClient.Validate()
	mustContain(t, err, "invalid vault credentials:", "Code: 503", "Vault is sealed")
	if v != esv1.ValidationResultError {
		t.Fatalf("Validate = %v", v)
	}
	_, err = kube.tryOpen()
	mustContain(t, err, "unable to log in with Kubernetes auth", "Code: 503", "Vault is sealed")
	unseal()
	if got := get(t, tokenClient, esv1.ExternalSecretDataRemoteRef{Key: "apps/sealed", Property: "k"}); got != "v" {
		t.Fatalf("after unseal = %q", got)
	}
	c := kube.open(t)
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
