"""Networks: records and IPAM, persistent namespaces, the bridge driver (veth, nftables), netlink."""
