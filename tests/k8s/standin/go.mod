module sealbox/k8s-standin

go 1.19
