//! Who is at the other end of a connection, for `--no-auth`: without a token, the
//! endpoint takes connections only from processes of its own user.
//!
//! Over a Unix socket the kernel says it (`SO_PEERCRED`). Over loopback TCP the client's
//! socket is in this machine's socket table: `/proc/net/tcp` (and `tcp6`) lists it with
//! its local address (the client's), its remote address (ours), the user that made it
//! and its inode. A socket with no inode (0) has been closed, or is waiting out
//! `TIME_WAIT`: its owner is unknown (the table shows uid 0), so it is refused — a
//! client must not be able to send its request, close, and pass for root.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One row of `/proc/net/tcp{,6}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    local: SocketAddr,
    remote: SocketAddr,
    uid: u32,
    inode: u64,
}

/// `0100007F:1F90` (IPv4: one 32-bit word, IPv6: four, each in host byte order as the
/// kernel prints them; the port as a plain number).
fn parse_address(field: &str) -> Option<SocketAddr> {
    let (address, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> =
        (0..address.len() / 8).map(|at| u32::from_str_radix(address.get(at * 8..at * 8 + 8)?, 16).ok()).collect::<Option<_>>()?;
    let ip = match words.as_slice() {
        [word] if address.len() == 8 => IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes())),
        [a, b, c, d] if address.len() == 32 => {
            let mut bytes = [0u8; 16];
            for (chunk, word) in bytes.chunks_exact_mut(4).zip([a, b, c, d]) {
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip.to_canonical(), port))
}

/// `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …`
fn parse_row(line: &str) -> Option<Row> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    Some(Row {
        local: parse_address(fields.get(1)?)?,
        remote: parse_address(fields.get(2)?)?,
        uid: fields.get(7)?.parse().ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// The user that owns the client socket `client` → `server`, in the table `text`.
fn owner_in(text: &str, client: SocketAddr, server: SocketAddr) -> Option<u32> {
    let row = text.lines().skip(1).filter_map(parse_row).find(|row| row.local == client && row.remote == server)?;
    (row.inode != 0).then_some(row.uid)
}

/// The user of the process that made the loopback TCP connection `client` → `server`
/// (as the server sees it), or `None` when it cannot be told.
pub fn tcp_owner(client: SocketAddr, server: SocketAddr) -> Option<u32> {
    let client = SocketAddr::new(client.ip().to_canonical(), client.port());
    let server = SocketAddr::new(server.ip().to_canonical(), server.port());
    // An IPv6 socket can reach an IPv4 address (mapped), so both tables are looked at.
    ["/proc/net/tcp", "/proc/net/tcp6"].into_iter().find_map(|table| owner_in(&std::fs::read_to_string(table).ok()?, client, server))
}

/// This process's user, the one `--no-auth` lets in.
pub fn own_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 2002 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 3003 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C3D4 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
";

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_socket_names_its_user() {
        if cfg!(target_endian = "big") {
            return;
        }
        let server = addr("127.0.0.1:8080");
        assert_eq!(owner_in(TABLE, addr("127.0.0.1:41394"), server), Some(65534), "the client's row, not the server's");
        assert_eq!(owner_in(TABLE, addr("127.0.0.1:50132"), server), None, "a closed socket (no inode) has no known owner");
        assert_eq!(owner_in(TABLE, addr("127.0.0.1:1"), server), None);
    }

    #[test]
    fn addresses_read_as_the_kernel_prints_them() {
        if cfg!(target_endian = "big") {
            return;
        }
        assert_eq!(parse_address("0100007F:1F90"), Some(addr("127.0.0.1:8080")));
        assert_eq!(parse_address("00000000000000000000000001000000:1F90"), Some(addr("[::1]:8080")));
        assert_eq!(parse_address("0000000000000000FFFF00000100007F:0050"), Some(addr("127.0.0.1:80")), "a mapped IPv4 address");
        assert_eq!(parse_address("0100007F"), None);
        assert_eq!(parse_address("zz00007F:0050"), None);
    }

    #[test]
    fn a_real_loopback_connection_is_ours() {
        for loopback in ["127.0.0.1:0", "[::1]:0"] {
            // A machine without IPv6 has no [::1] to test.
            let Ok(listener) = std::net::TcpListener::bind(loopback) else { continue };
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (accepted, peer) = listener.accept().unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(tcp_owner(peer, accepted.local_addr().unwrap()), Some(own_uid()), "{loopback}");
            drop(client);
        }
    }
}
