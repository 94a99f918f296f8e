package goapi

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"
)

func mountKV(t *testing.T, c *Client, path, version string) {
	t.Helper()
	must(t, c.Sys().Mount(path, &MountInput{Type: "kv", Options: map[string]string{"version": version}}),
		"Mount "+path)
	t.Cleanup(func() { _ = c.Sys().Unmount(path) })
}

func TestLogicalReadWriteListDelete(t *testing.T) {
	c := rootClient(t)
	mountKV(t, c, "logical", "1")
	l := c.Logical()
	for _, p := range []string{"logical/app/a", "logical/app/b", "logical/app/sub/c"} {
		_, err := l.Write(p, map[string]interface{}{"value": p})
		must(t, err, "Write "+p)
	}
	s, err := l.Read("logical/app/a")
	must(t, err, "Read")
	if s == nil || s.Data["value"] != "logical/app/a" {
		t.Fatalf("Read = %+v", s)
	}
	list, err := l.List("logical/app")
	must(t, err, "List")
	if got := keys(t, list); !reflect.DeepEqual(got, []string{"a", "b", "sub/"}) {
		t.Fatalf("List keys = %v", got)
	}
	_, err = l.Delete("logical/app/a")
	must(t, err, "Delete")
	if s, err := l.Read("logical/app/a"); err != nil || s != nil {
		t.Fatalf("Read after Delete = %+v, %v; want nil, nil", s, err)
	}
	if s, err := l.List("logical/none"); err != nil || s != nil {
		t.Fatalf("List of nothing = %+v, %v; want nil, nil", s, err)
	}
}

func keys(t *testing.T, s *Secret) []string {
	t.Helper()
	if s == nil {
		t.Fatal("List answered nothing")
	}
	raw, _ := s.Data["keys"].([]interface{})
	out := make([]string, 0, len(raw))
	for _, k := range raw {
		out = append(out, k.(string))
	}
	sort.Strings(out)
	return out
}

func TestKVv1Helpers(t *testing.T) {
	c := rootClient(t)
	mountKV(t, c, "kv1", "1")
	kv := c.KVv1("kv1")
	must(t, kv.Put(ctx(t), "cfg", map[string]interface{}{"user": "u1", "n": 7}), "KVv1 Put")
	s, err := kv.Get(ctx(t), "cfg")
	must(t, err, "KVv1 Get")
	if s.Data["user"] != "u1" || fmt.Sprint(s.Data["n"]) != "7" {
		t.Fatalf("KVv1 Get = %#v", s.Data)
	}
	must(t, kv.Delete(ctx(t), "cfg"), "KVv1 Delete")
	if _, err := kv.Get(ctx(t), "cfg"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("KVv1 Get after Delete: %v; want ErrSecretNotFound", err)
	}
}

func TestKVv2WritesCASAndPatch(t *testing.T) {
	c := rootClient(t)
	mountKV(t, c, "kv2", "2")
	kv := c.KVv2("kv2")
	v1, err := kv.Put(ctx(t), "app", map[string]interface{}{"user": "u", "pass": "p1"})
	must(t, err, "Put")
	if v1.VersionMetadata == nil || v1.VersionMetadata.Version != 1 || v1.VersionMetadata.CreatedTime.IsZero() {
		t.Fatalf("Put answered %+v", v1.VersionMetadata)
	}
	v2, err := kv.Put(ctx(t), "app", map[string]interface{}{"user": "u", "pass": "p2"}, WithCheckAndSet(1))
	must(t, err, "Put with CAS 1")
	if v2.VersionMetadata.Version != 2 {
		t.Fatalf("CAS Put made version %d", v2.VersionMetadata.Version)
	}
	_, err = kv.Put(ctx(t), "app", map[string]interface{}{"pass": "lost"}, WithCheckAndSet(1))
	requireResponseError(t, err, 400, "check-and-set parameter did not match the current version")

	v3, err := kv.Patch(ctx(t), "app", map[string]interface{}{"pass": "p3"})
	must(t, err, "Patch (JSON merge)")
	if v3.VersionMetadata.Version != 3 {
		t.Fatalf("Patch made version %d", v3.VersionMetadata.Version)
	}
	v4, err := kv.Patch(ctx(t), "app", map[string]interface{}{"extra": "x"}, WithMergeMethod("rw"))
	must(t, err, "Patch (read then write)")
	if v4.VersionMetadata.Version != 4 {
		t.Fatalf("rw Patch made version %d", v4.VersionMetadata.Version)
	}
	got, err := kv.Get(ctx(t), "app")
	must(t, err, "Get")
	want := map[string]interface{}{"user": "u", "pass": "p3", "extra": "x"}
	if !reflect.DeepEqual(got.Data, want) || got.VersionMetadata.Version != 4 {
		t.Fatalf("Get = %v v%d; want %v v4", got.Data, got.VersionMetadata.Version, want)
	}
	old, err := kv.GetVersion(ctx(t), "app", 1)
	must(t, err, "GetVersion 1")
	if old.Data["pass"] != "p1" || old.VersionMetadata.Version != 1 {
		t.Fatalf("GetVersion(1) = %v", old.Data)
	}
	if _, err := kv.Patch(ctx(t), "none", map[string]interface{}{"a": "b"}); err == nil {
		t.Fatal("Patch of a secret that does not exist succeeded")
	}
	if _, err := kv.Get(ctx(t), "none"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("Get of nothing: %v; want ErrSecretNotFound", err)
	}
}

func TestKVv2DeleteUndeleteDestroy(t *testing.T) {
	c := rootClient(t)
	mountKV(t, c, "kv2d", "2")
	kv := c.KVv2("kv2d")
	for _, p := range []string{"a", "b", "c"} {
		_, err := kv.Put(ctx(t), "s", map[string]interface{}{"v": p})
		must(t, err, "Put")
	}
	must(t, kv.Delete(ctx(t), "s"), "Delete")
	deleted, err := kv.Get(ctx(t), "s")
	must(t, err, "Get of a deleted version")
	if deleted.Data != nil || deleted.VersionMetadata.Version != 3 || deleted.VersionMetadata.DeletionTime.IsZero() {
		t.Fatalf("Get after Delete = %v %+v; want no data, version 3 with a deletion time",
			deleted.Data, deleted.VersionMetadata)
	}
	must(t, kv.Undelete(ctx(t), "s", []int{3}), "Undelete")
	back, err := kv.Get(ctx(t), "s")
	must(t, err, "Get after Undelete")
	if back.Data["v"] != "c" || !back.VersionMetadata.DeletionTime.IsZero() {
		t.Fatalf("Get after Undelete = %v %+v", back.Data, back.VersionMetadata)
	}
	must(t, kv.DeleteVersions(ctx(t), "s", []int{1}), "DeleteVersions")
	must(t, kv.Destroy(ctx(t), "s", []int{2}), "Destroy")
	gone, err := kv.GetVersion(ctx(t), "s", 2)
	must(t, err, "GetVersion of a destroyed version")
	if gone.Data != nil || !gone.VersionMetadata.Destroyed {
		t.Fatalf("GetVersion(2) after Destroy = %v %+v", gone.Data, gone.VersionMetadata)
	}
	versions, err := kv.GetVersionsAsList(ctx(t), "s")
	must(t, err, "GetVersionsAsList")
	if len(versions) != 3 {
		t.Fatalf("GetVersionsAsList = %+v", versions)
	}
	for i, v := range versions {
		if v.Version != i+1 || v.Destroyed != (i == 1) || v.DeletionTime.IsZero() != (i != 0) {
			t.Fatalf("version %d: %+v (1 deleted, 2 destroyed, 3 live)", i+1, v)
		}
	}
}

func TestKVv2Metadata(t *testing.T) {
	c := rootClient(t)
	mountKV(t, c, "kv2m", "2")
	kv := c.KVv2("kv2m")
	must(t, kv.PutMetadata(ctx(t), "m", KVMetadataPutInput{
		CASRequired: true, MaxVersions: 2, DeleteVersionAfter: time.Hour,
		CustomMetadata: map[string]interface{}{"owner": "team-a", "tier": "1"},
	}), "PutMetadata")
	md, err := kv.GetMetadata(ctx(t), "m")
	must(t, err, "GetMetadata")
	if !md.CASRequired || md.MaxVersions != 2 || md.DeleteVersionAfter != time.Hour || md.CurrentVersion != 0 ||
		!reflect.DeepEqual(md.CustomMetadata, map[string]interface{}{"owner": "team-a", "tier": "1"}) {
		t.Fatalf("GetMetadata after PutMetadata = %+v", md)
	}
	// cas_required: a write without CAS is refused.
	_, err = kv.Put(ctx(t), "m", map[string]interface{}{"k": "v"})
	requireResponseError(t, err, 400, "check-and-set parameter required for this call")
	for i := 0; i < 3; i++ {
		_, err := kv.Put(ctx(t), "m", map[string]interface{}{"k": i}, WithCheckAndSet(i))
		must(t, err, "Put with CAS")
	}
	casOff, maxVersions := false, 5
	must(t, kv.PatchMetadata(ctx(t), "m", KVMetadataPatchInput{
		CASRequired: &casOff, MaxVersions: &maxVersions, CustomMetadata: map[string]interface{}{"tier": "2"},
	}), "PatchMetadata")
	md, err = kv.GetMetadata(ctx(t), "m")
	must(t, err, "GetMetadata after PatchMetadata")
	if md.CASRequired || md.MaxVersions != 5 || md.CurrentVersion != 3 || md.OldestVersion != 2 ||
		md.DeleteVersionAfter != time.Hour || len(md.Versions) != 2 ||
		!reflect.DeepEqual(md.CustomMetadata, map[string]interface{}{"owner": "team-a", "tier": "2"}) {
		t.Fatalf("GetMetadata after PatchMetadata = %+v", md)
	}
	must(t, kv.DeleteMetadata(ctx(t), "m"), "DeleteMetadata")
	if _, err := kv.GetMetadata(ctx(t), "m"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("GetMetadata after DeleteMetadata: %v; want ErrSecretNotFound", err)
	}
	if _, err := kv.Get(ctx(t), "m"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("Get after DeleteMetadata: %v; want ErrSecretNotFound", err)
	}
}
