# tests/netns/hosts.sh: hosts made of network namespaces, for the netns
# tests to source. A private subnet that exists only inside them: a bridge
# in the first host's namespace, one veth link to each other host. Nothing
# is added to the root namespace.

# netns_hosts PREFIX HUB ADDRESSES HOST...: namespaces PREFIX-HUB and
# PREFIX-HOST for each HOST, HUB holding the bridge; ADDRESSES names an
# associative array of each one's address (on a /24). Each namespace made
# is appended to the caller's CREATED array (by host name), so its cleanup
# can remove them. Returns 1 if namespaces cannot be made here at all.
netns_hosts () {
    local prefix=$1 hub=$2 host
    local -n addresses=$3
    shift 3
    ip netns add "$prefix-$hub" 2> /dev/null || return 1
    CREATED+=("$hub")
    ip -n "$prefix-$hub" link set lo up
    ip -n "$prefix-$hub" link add br0 type bridge
    ip -n "$prefix-$hub" addr add "${addresses[$hub]}/24" dev br0
    ip -n "$prefix-$hub" link set br0 up
    for host in "$@"; do
        ip netns add "$prefix-$host"
        CREATED+=("$host")
        ip -n "$prefix-$hub" link add "$host" type veth peer name eth0 netns "$prefix-$host"
        ip -n "$prefix-$hub" link set "$host" master br0
        ip -n "$prefix-$hub" link set "$host" up
        ip -n "$prefix-$host" link set lo up
        ip -n "$prefix-$host" addr add "${addresses[$host]}/24" dev eth0
        ip -n "$prefix-$host" link set eth0 up
    done
}
