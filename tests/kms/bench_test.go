package kms

// Benchmarks for bench/kms/run.sh (not run by the tests): KMS v2 Encrypt
// through the plugin's socket, with kube-apiserver's gRPC client, against
// AES-256-GCM in this process, the work of the apiserver's local aesgcm
// provider.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
)

// What kube-apiserver sends to Encrypt: a 32-byte DEK seed.
const dekSize = 32

func BenchmarkKMSEncrypt(b *testing.B) {
	socket := os.Getenv("SEALBOX_KMS_SOCKET")
	if socket == "" {
		b.Skip("SEALBOX_KMS_SOCKET is not set (bench/kms/run.sh sets it)")
	}
	svc, err := kmsv2.NewGRPCService(context.Background(), "unix://"+socket, provider, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	dek := make([]byte, dekSize)
	rand.Read(dek)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Encrypt(context.Background(), "bench", dek); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAESGCMInProcess(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	plain := make([]byte, dekSize)
	b.RunParallel(func(pb *testing.PB) {
		nonce := make([]byte, aead.NonceSize())
		out := make([]byte, 0, dekSize+aead.Overhead())
		for pb.Next() {
			rand.Read(nonce)
			out = aead.Seal(out[:0], nonce, plain, nil)
		}
	})
}
