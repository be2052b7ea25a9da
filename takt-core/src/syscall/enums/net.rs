//! Named values of the socket calls: address families, IP protocols, option levels
//! and the names of socket options.

use crate::syscall::arg::{display_arg, int_type};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::value_set;

value_set!(
    /// An address family (`AF_*`), as `socket`'s domain or a socket address's family.
    AddressFamily(u32), dec {
        AF_UNSPEC = 0,
        AF_UNIX = 1,
        AF_INET = 2,
        AF_AX25 = 3,
        AF_IPX = 4,
        AF_APPLETALK = 5,
        AF_NETROM = 6,
        AF_BRIDGE = 7,
        AF_ATMPVC = 8,
        AF_X25 = 9,
        AF_INET6 = 10,
        AF_ROSE = 11,
        AF_DECnet = 12,
        AF_NETBEUI = 13,
        AF_SECURITY = 14,
        AF_KEY = 15,
        AF_NETLINK = 16,
        AF_PACKET = 17,
        AF_ASH = 18,
        AF_ECONET = 19,
        AF_ATMSVC = 20,
        AF_RDS = 21,
        AF_SNA = 22,
        AF_IRDA = 23,
        AF_PPPOX = 24,
        AF_WANPIPE = 25,
        AF_LLC = 26,
        AF_IB = 27,
        AF_MPLS = 28,
        AF_CAN = 29,
        AF_TIPC = 30,
        AF_BLUETOOTH = 31,
        AF_IUCV = 32,
        AF_RXRPC = 33,
        AF_ISDN = 34,
        AF_PHONET = 35,
        AF_IEEE802154 = 36,
        AF_CAIF = 37,
        AF_ALG = 38,
        AF_NFC = 39,
        AF_VSOCK = 40,
        AF_KCM = 41,
        AF_QIPCRTR = 42,
        AF_SMC = 43,
        AF_XDP = 44,
        AF_MCTP = 45,
    }
);

value_set!(
    /// An IP protocol number (`IPPROTO_*`), as `socket`'s protocol for `AF_INET(6)`.
    IpProto(i32), dec {
        IPPROTO_IP = 0,
        IPPROTO_ICMP = 1,
        IPPROTO_IGMP = 2,
        IPPROTO_TCP = 6,
        IPPROTO_UDP = 17,
        IPPROTO_IPV6 = 41,
        IPPROTO_ICMPV6 = 58,
        IPPROTO_SCTP = 132,
        IPPROTO_UDPLITE = 136,
        IPPROTO_RAW = 255,
        IPPROTO_MPTCP = 262,
    }
);

value_set!(
    /// A socket option level (`SOL_*`).
    SockLevel(i32), dec {
        SOL_IP = 0,
        SOL_SOCKET = 1,
        SOL_TCP = 6,
        SOL_UDP = 17,
        SOL_IPV6 = 41,
        SOL_ICMPV6 = 58,
        SOL_RAW = 255,
        SOL_NETLINK = 270,
    }
);

/// The name of socket option `opt` at `level`, as strace prints it.
pub(crate) fn sockopt_name(level: i32, opt: i32) -> Option<&'static str> {
    let table: &[(&str, i32)] = match level {
        1 => &[
            ("SO_DEBUG", 1),
            ("SO_REUSEADDR", 2),
            ("SO_TYPE", 3),
            ("SO_ERROR", 4),
            ("SO_DONTROUTE", 5),
            ("SO_BROADCAST", 6),
            ("SO_SNDBUF", 7),
            ("SO_RCVBUF", 8),
            ("SO_KEEPALIVE", 9),
            ("SO_OOBINLINE", 10),
            ("SO_NO_CHECK", 11),
            ("SO_PRIORITY", 12),
            ("SO_LINGER", 13),
            ("SO_BSDCOMPAT", 14),
            ("SO_REUSEPORT", 15),
            ("SO_PASSCRED", 16),
            ("SO_PEERCRED", 17),
            ("SO_RCVLOWAT", 18),
            ("SO_SNDLOWAT", 19),
            ("SO_RCVTIMEO_OLD", 20),
            ("SO_SNDTIMEO_OLD", 21),
            ("SO_BINDTODEVICE", 25),
            ("SO_ATTACH_FILTER", 26),
            ("SO_TIMESTAMP_OLD", 29),
            ("SO_ACCEPTCONN", 30),
            ("SO_PEERSEC", 31),
            ("SO_SNDBUFFORCE", 32),
            ("SO_RCVBUFFORCE", 33),
            ("SO_PASSSEC", 34),
            ("SO_MARK", 36),
            ("SO_PROTOCOL", 38),
            ("SO_DOMAIN", 39),
            ("SO_RXQ_OVFL", 40),
            ("SO_BUSY_POLL", 46),
            ("SO_INCOMING_CPU", 49),
            ("SO_ZEROCOPY", 60),
        ],
        6 => &[
            ("TCP_NODELAY", 1),
            ("TCP_MAXSEG", 2),
            ("TCP_CORK", 3),
            ("TCP_KEEPIDLE", 4),
            ("TCP_KEEPINTVL", 5),
            ("TCP_KEEPCNT", 6),
            ("TCP_SYNCNT", 7),
            ("TCP_LINGER2", 8),
            ("TCP_DEFER_ACCEPT", 9),
            ("TCP_WINDOW_CLAMP", 10),
            ("TCP_INFO", 11),
            ("TCP_QUICKACK", 12),
            ("TCP_CONGESTION", 13),
            ("TCP_USER_TIMEOUT", 18),
            ("TCP_FASTOPEN", 23),
            ("TCP_NOTSENT_LOWAT", 25),
        ],
        0 => &[
            ("IP_TOS", 1),
            ("IP_TTL", 2),
            ("IP_HDRINCL", 3),
            ("IP_OPTIONS", 4),
            ("IP_PKTINFO", 8),
            ("IP_MTU_DISCOVER", 10),
            ("IP_RECVERR", 11),
            ("IP_RECVTTL", 12),
            ("IP_MTU", 14),
            ("IP_FREEBIND", 15),
            ("IP_TRANSPARENT", 19),
            ("IP_BIND_ADDRESS_NO_PORT", 24),
            ("IP_MULTICAST_IF", 32),
            ("IP_MULTICAST_TTL", 33),
            ("IP_MULTICAST_LOOP", 34),
            ("IP_ADD_MEMBERSHIP", 35),
            ("IP_DROP_MEMBERSHIP", 36),
        ],
        41 => &[
            ("IPV6_UNICAST_HOPS", 16),
            ("IPV6_MULTICAST_IF", 17),
            ("IPV6_MULTICAST_HOPS", 18),
            ("IPV6_MULTICAST_LOOP", 19),
            ("IPV6_ADD_MEMBERSHIP", 20),
            ("IPV6_DROP_MEMBERSHIP", 21),
            ("IPV6_MTU_DISCOVER", 23),
            ("IPV6_MTU", 24),
            ("IPV6_RECVERR", 25),
            ("IPV6_V6ONLY", 26),
            ("IPV6_RECVPKTINFO", 49),
            ("IPV6_TCLASS", 67),
        ],
        _ => &[],
    };
    table.iter().find(|(_, v)| *v == opt).map(|(n, _)| *n)
}
