// Package eso drives External Secrets Operator's real Vault provider
// (github.com/external-secrets/external-secrets/pkg/provider/vault, pinned by
// go.mod) against a real Sealbox over TLS. The SecretStores and the Secrets
// their auth refers to live in controller-runtime's fake client, as the
// operator's controllers would read them from the API server.
// tests/compat/test_eso.py starts the server, configures it and passes what
// the tests need in SEALBOX_* variables.
package eso

import (
	"context"
	"os"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	kclient "sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	esmeta "github.com/external-secrets/external-secrets/apis/meta/v1"
	// Registers the Vault provider with esv1, as the operator's binary does.
	_ "github.com/external-secrets/external-secrets/pkg/provider/vault"
)

// The namespace of the SecretStores, their Secrets and the ServiceAccount.
const ns = "eso"

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set (tests/compat/test_eso.py sets it)", name)
	}
	return v
}

// root is a plain vault/api client with the root token, to seed and inspect
// what the provider reads and writes.
func root(t *testing.T) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = env(t, "SEALBOX_ADDR")
	if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{CACert: env(t, "SEALBOX_CACERT")}); err != nil {
		t.Fatal(err)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(env(t, "SEALBOX_ROOT_TOKEN"))
	return c
}

func caBundle(t *testing.T) []byte {
	t.Helper()
	pem, err := os.ReadFile(env(t, "SEALBOX_CACERT"))
	if err != nil {
		t.Fatal(err)
	}
	return pem
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func ref(name, key string) esmeta.SecretKeySelector {
	return esmeta.SecretKeySelector{Name: name, Key: key}
}

func ptr[T any](v T) *T { return &v }

// vaultSpec is a SecretStore's spec.provider.vault for the mount `path` of KV
// `version`, trusting the server's CA through caBundle.
func vaultSpec(t *testing.T, path string, version esv1.VaultKVStoreVersion, auth *esv1.VaultAuth) *esv1.VaultProvider {
	return &esv1.VaultProvider{
		Server: env(t, "SEALBOX_ADDR"), Path: ptr(path), Version: version, CABundle: caBundle(t), Auth: auth,
	}
}

// fixture is the fake API server's content: the store and the Secrets.
type fixture struct {
	kube  kclient.Client
	store esv1.GenericStore
}

func newFixture(t *testing.T, kind string, spec *esv1.VaultProvider, objs ...kclient.Object) fixture {
	t.Helper()
	return newFixtureRetrying(t, kind, spec, nil, objs...)
}

// newFixtureRetrying sets the store's spec.retrySettings too (nil: the
// default, vault/api's two retries of a 5xx).
func newFixtureRetrying(t *testing.T, kind string, spec *esv1.VaultProvider, retry *esv1.SecretStoreRetrySettings,
	objs ...kclient.Object) fixture {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := esv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	storeSpec := esv1.SecretStoreSpec{Provider: &esv1.SecretStoreProvider{Vault: spec}, RetrySettings: retry}
	var store esv1.GenericStore
	if kind == esv1.ClusterSecretStoreKind {
		store = &esv1.ClusterSecretStore{ObjectMeta: metav1.ObjectMeta{Name: "sealbox"}, Spec: storeSpec}
	} else {
		store = &esv1.SecretStore{ObjectMeta: metav1.ObjectMeta{Name: "sealbox", Namespace: ns}, Spec: storeSpec}
	}
	kube := clientfake.NewClientBuilder().WithScheme(scheme).WithObjects(append(objs, store)...).Build()
	// Read the store back as the SecretStore controller gets it (with its kind).
	var got esv1.GenericStore = &esv1.SecretStore{}
	if kind == esv1.ClusterSecretStoreKind {
		got = &esv1.ClusterSecretStore{}
	}
	key := types.NamespacedName{Name: "sealbox", Namespace: store.GetNamespace()}
	if err := kube.Get(context.Background(), key, got); err != nil {
		t.Fatal(err)
	}
	got.GetObjectKind().SetGroupVersionKind(esv1.SchemeGroupVersion.WithKind(kind))
	return fixture{kube: kube, store: got}
}

// open validates the store as the admission webhook does and returns the
// provider's SecretsClient, logged in, as the reconcilers get it.
func (f fixture) open(t *testing.T) esv1.SecretsClient {
	t.Helper()
	c, err := f.tryOpen()
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func (f fixture) tryOpen() (esv1.SecretsClient, error) {
	p, err := esv1.GetProvider(f.store)
	if err != nil {
		return nil, err
	}
	if _, err := p.ValidateStore(f.store); err != nil {
		return nil, err
	}
	return p.NewClient(context.Background(), f.store, f.kube, ns)
}

// mustContain fails unless err is an error whose text has every part.
func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}
