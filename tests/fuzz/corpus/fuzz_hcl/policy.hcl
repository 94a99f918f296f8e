path "secret/data/app/*" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "*" = []
  }
}
path "secret/+/team/*" { capabilities = ["deny"] }
path "sys/policies/acl" {
  capabilities = ["list"]
}
