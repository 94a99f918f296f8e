storage "rocksdb" { path = "/var/lib/sealbox" }
listener "tcp" {
  address = "127.0.0.1:8200"
  tls_cert_file = "/etc/sealbox/server.pem"
  max_request_duration = "90s"
}
seal "static" {
  current_key_id = "k1"
  current_key = "file:///k"
}
api_addr = "https://a:8200" # comment
/* block */ log_level = "info"
