//! The client's address: the TCP peer, or, when the peer is a trusted reverse proxy, the
//! address that proxy saw (from `X-Forwarded-For`). Untrusted peers cannot choose their
//! address by sending the header, so throttling per address holds.

use app::ports::ClientAddr;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use std::{net::IpAddr, net::SocketAddr, sync::Arc};

pub async fn resolve(
    State(trusted): State<Arc<Vec<IpAddr>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let addr = client_ip(peer.ip(), &forwarded, &trusted);
    request.extensions_mut().insert(ClientAddr(addr));
    next.run(request).await
}

/// Walks the forwarding chain from the nearest hop back, past trusted proxies, to the first
/// address no trusted proxy vouches for.
pub fn client_ip(peer: IpAddr, forwarded_for: &str, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.contains(&canonical(*ip));
    if !is_trusted(&peer) {
        return canonical(peer);
    }
    let mut client = canonical(peer);
    for hop in forwarded_for
        .rsplit(',')
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
    {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(&client) {
                    break;
                }
            }
            // A hop we cannot read ends what can be believed.
            Err(_) => break,
        }
    }
    client
}

/// IPv4 peers on a dual-stack socket arrive as `::ffff:a.b.c.d`; count them as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        assert_eq!(
            client_ip(ip("203.0.113.9"), "198.51.100.1", &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_passes_on_the_client_it_saw() {
        let proxy = ip("10.0.0.2");
        assert_eq!(
            client_ip(proxy, "198.51.100.7", &[proxy]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_client_cannot_prepend_a_forged_hop_behind_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real address.
        assert_eq!(
            client_ip(proxy, "1.2.3.4, 198.51.100.7", &[proxy]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_through() {
        let (edge, inner) = (ip("10.0.0.1"), ip("10.0.0.2"));
        assert_eq!(
            client_ip(inner, "198.51.100.7, 10.0.0.1", &[edge, inner]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        assert_eq!(client_ip(ip("::ffff:192.0.2.1"), "", &[]), ip("192.0.2.1"));
    }
}
