package goapi

import "testing"

// TestSealedServer seals the server, checks what the client sees while it
// is sealed, and unseals it again for the tests after it.
func TestSealedServer(t *testing.T) {
	root := rootClient(t)
	mountKV(t, root, "sealkv", "2")
	_, err := root.KVv2("sealkv").Put(ctx(t), "s", map[string]interface{}{"k": "v"})
	must(t, err, "Put")
	must(t, root.Sys().Seal(), "Seal")
	unsealed := false
	t.Cleanup(func() {
		if !unsealed {
			_ = unseal(newClient(t, ""))
		}
	})

	st, err := root.Sys().SealStatus()
	must(t, err, "SealStatus")
	if !st.Sealed || !st.Initialized || st.T != 2 || st.N != 3 {
		t.Fatalf("SealStatus of a sealed server = %+v", st)
	}
	h, err := root.Sys().Health()
	must(t, err, "Health")
	if !h.Sealed || !h.Initialized {
		t.Fatalf("Health of a sealed server = %+v", h)
	}
	_, err = root.KVv2("sealkv").Get(ctx(t), "s")
	requireResponseError(t, err, 503, "Vault is sealed")
	_, err = root.Logical().Write("sealkv/data/s", map[string]interface{}{"data": map[string]interface{}{}})
	requireResponseError(t, err, 503, "Vault is sealed")
	_, err = root.Auth().Token().LookupSelf()
	requireResponseError(t, err, 503, "Vault is sealed")
	_, err = root.Sys().ListMounts()
	requireResponseError(t, err, 503, "Vault is sealed")
	err = root.Sys().Seal()
	must(t, err, "Seal of a sealed server")

	_, err = root.Sys().Unseal("not-a-key")
	requireResponseError(t, err, 400, "")
	st, err = root.Sys().ResetUnsealProcess()
	must(t, err, "ResetUnsealProcess")
	if !st.Sealed || st.Progress != 0 {
		t.Fatalf("ResetUnsealProcess = %+v", st)
	}
	must(t, unseal(root), "Unseal")
	unsealed = true
	got, err := root.KVv2("sealkv").Get(ctx(t), "s")
	must(t, err, "Get after Unseal")
	if got.Data["k"] != "v" {
		t.Fatalf("Get after Unseal = %v", got.Data)
	}
}
