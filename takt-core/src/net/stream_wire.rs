//! Stream packets arriving: SYN (queued at a listener, refused, or dropped by a full
//! backlog and retransmitted), SYN-ACK, data, FIN, RST, and the connect timeout.

use super::addr::Ep;
use super::socket::{Kind, Local, Socket};
use super::stream::{Phase, SockState};
use super::{Ev, Network, NodeId, SockId, SockType};
use crate::errno::Errno;
use crate::time::VTime;

/// Linux's initial SYN retransmission timeout; it doubles on every retry.
const SYN_RTO_NANOS: u64 = 1_000_000_000;
/// A SYN: connection `conn` from `client` (at `src`) to `dst`, try number `attempt`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Syn {
    pub(crate) client: SockId,
    pub(crate) conn: u64,
    pub(crate) src: Ep,
    pub(crate) dst: Ep,
    pub(crate) attempt: u32,
    pub(crate) sent_at: VTime,
}

impl Network {
    /// A SYN `src -> dst` arrives at `node` at `t`.
    pub(super) fn on_syn(&mut self, t: VTime, from: NodeId, node: NodeId, syn: Syn) {
        let Syn {
            client,
            conn,
            src,
            dst,
            attempt,
            sent_at,
        } = syn;
        // A retransmission is only sent if the client has not given up by then.
        if attempt > 0 && self.syn_deadline(client, conn).is_none() {
            return;
        }
        let Some(l) = self.find_listener(node, dst, src) else {
            self.emit(t, node, from, Ev::Rst { to: client, conn });
            return;
        };
        let Ok(lsock) = self.sock(l) else { return };
        let (domain, opts) = (lsock.domain, lsock.opts.clone());
        let Some(Phase::Listening { cap, queue }) = lsock.stream().map(|st| &st.phase) else {
            return;
        };
        if queue.len() >= *cap {
            // Backlog full: the SYN is dropped and the client retransmits it (1 s, 2 s, ...).
            let retry = sent_at.plus_nanos(SYN_RTO_NANOS << attempt.min(32));
            let pending = self.syn_deadline(client, conn);
            if pending.is_some_and(|deadline| retry < deadline) {
                let syn = Syn {
                    attempt: attempt + 1,
                    sent_at: retry,
                    ..syn
                };
                self.emit_ordered(client, retry, Ev::Syn(syn));
            }
            return;
        }
        let mut child = Socket::new(node, domain, SockType::Stream);
        child.local = Some(Local::Ip(dst));
        child.explicit_bind = true;
        child.opts = opts;
        if let Kind::Stream(st) = &mut child.kind {
            st.phase = Phase::Established;
            st.state = SockState::Connected;
            st.conn = conn;
            st.peer = Some(client);
            st.peer_node = from;
            st.peer_addr = Some(src.to_sockaddr(domain));
        }
        let c = self.alloc(child);
        self.add_to_table(node, SockType::Stream, dst.port, c);
        if let Some(Phase::Listening { queue, .. }) = self.stream_mut(l).map(|st| &mut st.phase) {
            queue.push_back(c);
        }
        self.dirty.push(l);
        self.emit_ordered(
            c,
            t,
            Ev::SynAck {
                client,
                server: c,
                conn,
            },
        );
    }

    /// A SYN-ACK arrives: the client is established (or answers RST if it gave up).
    pub(super) fn on_synack(
        &mut self,
        t: VTime,
        from: NodeId,
        node: NodeId,
        client: SockId,
        server: SockId,
        conn: u64,
    ) {
        if let Some(Kind::Stream(st)) = self.conn_mut(client, conn).map(|s| &mut s.kind) {
            if let Phase::SynSent { timer, .. } = st.phase {
                st.phase = Phase::Established;
                st.peer = Some(server);
                self.queue.cancel(timer);
                self.dirty.push(client);
                return;
            }
        }
        self.emit(t, node, from, Ev::Rst { to: server, conn });
    }

    /// Data arrives; a closed receiver answers RST.
    pub(super) fn on_data(&mut self, t: VTime, from_node: NodeId, node: NodeId, data: Ev) {
        let Ev::Data {
            to,
            from,
            conn,
            bytes,
            msg,
        } = data
        else {
            return;
        };
        let sender_live = match self.conn_mut(from, conn).map(|s| &mut s.kind) {
            Some(Kind::Stream(st)) => {
                st.in_flight = st.in_flight.saturating_sub(bytes.len());
                matches!(st.phase, Phase::Established)
            }
            _ => false,
        };
        match self.conn_mut(to, conn).map(|s| &mut s.kind) {
            Some(Kind::Stream(st)) => {
                if matches!(st.phase, Phase::Established) {
                    st.rx_msgs.push_back((from, msg, bytes.len()));
                    st.rx.extend(bytes);
                    self.dirty.push(to);
                }
            }
            _ if sender_live => {
                self.emit(t, node, from_node, Ev::Rst { to: from, conn });
            }
            _ => {}
        }
    }

    /// The peer's FIN arrives: EOF after the buffered bytes.
    pub(super) fn on_fin(&mut self, to: SockId, conn: u64) {
        if let Some(Kind::Stream(st)) = self.conn_mut(to, conn).map(|s| &mut s.kind) {
            if matches!(st.phase, Phase::Established) {
                st.rx_fin = true;
                self.dirty.push(to);
            }
        }
    }

    /// RST arrives: a connect is refused; a connection is reset (EPIPE if the peer had
    /// already sent FIN, ECONNRESET otherwise, like Linux). Unread bytes stay readable.
    pub(super) fn on_rst(&mut self, to: SockId, conn: u64) {
        let Some(sock) = self.conn_mut(to, conn) else {
            return;
        };
        let shut_wr = sock.shut_wr;
        let Some(st) = sock.stream() else { return };
        let err = match st.phase {
            Phase::SynSent { .. } => Errno::ECONNREFUSED,
            Phase::Established if st.rx_fin && !shut_wr => Errno::EPIPE,
            Phase::Established => Errno::ECONNRESET,
            _ => return,
        };
        self.kill(to, err);
    }

    /// The connect timer fires while the SYN is still unanswered.
    pub(super) fn on_connect_timeout(&mut self, s: SockId, conn: u64) {
        if let Some(Phase::SynSent { .. }) = self
            .conn_mut(s, conn)
            .and_then(|s| s.stream())
            .map(|st| &st.phase)
        {
            self.kill(s, Errno::ETIMEDOUT);
        }
    }
}
