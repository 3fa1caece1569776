//! A campaign's node: the LLMP broker through which its clients share what they find, linked over TCP to the brokers of the same campaign on other machines.
//!
//! Many machines go through LLMP's own broker-to-broker links (LibAFL 0.16.1, no extra cargo feature): a node
//! started with `--remote-broker HOST:PORT` connects its broker to that one, and from then on every event its
//! broker hands its clients (new queue entries, and the objectives this hook lets through) crosses the link in
//! both directions. A hub with several nodes linked to it passes each node's events on to the others. LibAFL's
//! other ways were weighed: `Launcher::remote_broker_addr` is ignored by the 0.16.1 launcher (only the
//! centralized launcher reads it), and the `multi_machine` feature (a tree of nodes) pulls in tokio, drops
//! every event but new queue entries between machines, and needs the centralized launcher. So the campaign
//! starts this broker itself, on a listener it binds, and lets LibAFL's launcher start only the clients.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use libafl::events::{Event, EventWithStats, StdLlmpEventHook};
use libafl::inputs::BytesInput;
use libafl::monitors::Monitor;
use libafl_bolts::compress::GzipCompressor;
use libafl_bolts::llmp::{
    Broker as _, Flags, LLMP_FLAG_COMPRESSED, LlmpBroker, LlmpBrokerInner, LlmpHook,
    LlmpMsgHookResult, Tag,
};
use libafl_bolts::shmem::{ShMem, ShMemProvider};
use libafl_bolts::{ClientId, Error};

use super::FuzzError;

/// Where a node's broker listens, and the broker of the campaign it joins.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// Address the broker listens on; `None`: a free port on the loopback interface.
    pub listen: Option<SocketAddr>,
    /// `HOST:PORT` of the broker on another machine (or process) whose campaign this one joins.
    pub remote: Option<String>,
}

impl NodeOptions {
    /// Whether this campaign runs a broker that other nodes may join, or joins one (and so needs a broker even on
    /// one core).
    pub fn linked(&self) -> bool {
        self.remote.is_some() || self.listen.is_some()
    }
}

/// Binds the broker's listener. The local clients always reach their broker at 127.0.0.1 (LLMP's clients know no
/// other address), so it listens on the loopback interface or on every interface (`0.0.0.0`, `::`), which
/// remote nodes reach too.
pub fn bind(listen: Option<SocketAddr>) -> Result<TcpListener, FuzzError> {
    let addr = listen.unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        return Err(FuzzError::BrokerAddress(addr));
    }
    TcpListener::bind(addr).map_err(|source| FuzzError::Io {
        path: addr.to_string().into(),
        source,
    })
}

/// Runs the broker until it is asked to stop (SIGINT) or, on a node with no link, until its `clients` have all
/// left; events from its clients go to `monitor`. Returns when the broker has ended.
pub fn run_broker<MT, SP>(
    shmem_provider: SP,
    listener: TcpListener,
    remote: Option<&str>,
    monitor: MT,
    clients: usize,
) -> Result<(), Error>
where
    MT: Monitor,
    SP: ShMemProvider,
{
    let hook = NodeHook {
        inner: StdLlmpEventHook::<BytesInput, MT>::new(monitor)?,
        compressor: GzipCompressor::new(),
    };
    let mut broker = LlmpBroker::new(shmem_provider, libafl_bolts::tuples::tuple_list!(hook))?;
    // The link first: its proxy takes the broker's first client id. The listener hands its clients ids from its
    // own count, starting past its own id; started first, it would hand the first local client the id the link
    // takes next, and the link, which drops what looks like its own messages, would pass on none of that client's.
    if let Some(remote) = remote {
        broker.inner_mut().connect_b2b(remote).map_err(|e| {
            Error::illegal_argument(format!("cannot join the broker at {remote}: {e}"))
        })?;
    }
    broker
        .inner_mut()
        .launch_listener(libafl_bolts::llmp::Listener::Tcp(listener))?;
    if let Some(clients) = NonZeroUsize::new(clients) {
        broker.set_exit_after(clients);
    }
    broker.loop_with_timeouts(Duration::from_secs(30), Some(Duration::from_millis(5)));
    Ok(())
}

/// LibAFL's broker hook (the monitor's numbers, new queue entries passed on to every client and linked node),
/// which also passes on objectives that carry their input: another node runs the input and keeps the finding in
/// its own output folder. LibAFL's hook keeps objectives to itself, as a node's clients share one folder.
struct NodeHook<MT> {
    inner: StdLlmpEventHook<BytesInput, MT>,
    compressor: GzipCompressor,
}

impl<MT> NodeHook<MT> {
    /// Whether a message is an objective with its input.
    fn is_shared_objective(&self, flags: Flags, msg: &[u8]) -> bool {
        let decompressed;
        let bytes = if flags & LLMP_FLAG_COMPRESSED == LLMP_FLAG_COMPRESSED {
            match self.compressor.decompress(msg) {
                Ok(bytes) => {
                    decompressed = bytes;
                    &decompressed[..]
                }
                Err(_) => return false,
            }
        } else {
            msg
        };
        postcard::from_bytes::<EventWithStats<BytesInput>>(bytes)
            .is_ok_and(|event| matches!(event.event(), Event::Objective { input: Some(_), .. }))
    }
}

impl<MT, SHM, SP> LlmpHook<SHM, SP> for NodeHook<MT>
where
    MT: Monitor,
    SHM: ShMem,
    SP: ShMemProvider<ShMem = SHM>,
{
    fn on_new_message(
        &mut self,
        broker_inner: &mut LlmpBrokerInner<SHM, SP>,
        client_id: ClientId,
        msg_tag: &mut Tag,
        msg_flags: &mut Flags,
        msg: &mut [u8],
        new_msgs: &mut Vec<(Tag, Flags, Vec<u8>)>,
    ) -> Result<LlmpMsgHookResult, Error> {
        let result = self.inner.on_new_message(
            broker_inner,
            client_id,
            msg_tag,
            msg_flags,
            msg,
            new_msgs,
        )?;
        Ok(match result {
            LlmpMsgHookResult::Handled if self.is_shared_objective(*msg_flags, msg) => {
                LlmpMsgHookResult::ForwardToClients
            }
            other => other,
        })
    }

    fn on_timeout(&mut self) -> Result<(), Error> {
        LlmpHook::<SHM, SP>::on_timeout(&mut self.inner)
    }
}

/// Ends the broker process `pid` once the clients have all ended: it ends by itself when it has no link; linked
/// to other nodes it never runs out of clients, and after `grace` (time to pass on the clients' last messages) it
/// is asked to stop (SIGINT, LLMP's own clean stop), then killed. Returns when it is reaped.
pub fn end_broker(pid: libc::pid_t, grace: Duration) {
    const POLL: Duration = Duration::from_millis(20);
    let mut asked = None::<Instant>;
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: `waitpid` writes only to `status`, a local; `pid` is a child of this process not yet reaped.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if reaped != 0 {
            return;
        }
        let signal = match asked {
            None if start.elapsed() >= grace => {
                asked = Some(Instant::now());
                Some(libc::SIGINT)
            }
            Some(at) if at.elapsed() >= grace => Some(libc::SIGKILL),
            _ => None,
        };
        if let Some(signal) = signal {
            // SAFETY: `kill` reads no memory of ours; `pid` is a child of this process not yet reaped, so its
            // number cannot have been reused by another process.
            unsafe {
                libc::kill(pid, signal);
            }
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_listens_on_loopback_or_every_interface_only() {
        assert!(bind(None).is_ok());
        assert!(bind(Some("127.0.0.1:0".parse().expect("an address"))).is_ok());
        assert!(bind(Some("0.0.0.0:0".parse().expect("an address"))).is_ok());
        assert!(matches!(
            bind(Some("192.0.2.1:0".parse().expect("an address"))),
            Err(FuzzError::BrokerAddress(_))
        ));
    }

    #[test]
    fn a_node_with_a_broker_address_or_a_remote_broker_is_linked() {
        assert!(!NodeOptions::default().linked());
        let listening = NodeOptions {
            listen: Some("127.0.0.1:7000".parse().expect("an address")),
            remote: None,
        };
        assert!(listening.linked());
        let joining = NodeOptions {
            listen: None,
            remote: Some("hub:7000".into()),
        };
        assert!(joining.linked());
    }
}
