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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libafl::events::{Event, EventWithStats, ExecStats, StdLlmpEventHook};
use libafl::inputs::BytesInput;
use libafl::monitors::Monitor;
use libafl::monitors::stats::{AggregatorOps, UserStats, UserStatsValue};
use libafl_bolts::compress::GzipCompressor;
use libafl_bolts::llmp::{
    Broker as _, Flags, LLMP_FLAG_COMPRESSED, LLMP_FLAG_FROM_B2B, LLMP_FLAG_INITIALIZED,
    LlmpBroker, LlmpBrokerInner, LlmpHook, LlmpMsgHookResult, LlmpSharedMap, Tag,
};
use libafl_bolts::shmem::{ShMem, ShMemProvider};
use libafl_bolts::{ClientId, Error};

use super::FuzzError;
use super::stats::Linked;

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

/// LLMP's tag of LibAFL's events (`LLMP_TAG_EVENT_TO_BOTH`, private to LibAFL 0.16.1): a node's figures travel
/// as such an event, which clients ignore.
const EVENT_TAG: Tag = Tag(0x2B0741);
/// The name of the user-stats event that carries a node's figures: `NODE_ID EXECS EXECS_PER_SEC`.
const FIGURES_EVENT: &str = "capicola-node";
/// Size of the page that holds client id 0 on a joining node's broker (it never carries a message).
const PLACEHOLDER_PAGE: usize = 1 << 16;
/// How often a node tells the others its figures.
const FIGURES_INTERVAL: Duration = Duration::from_secs(1);

/// What the nodes linked to this one last told of themselves, by node: their own executions and rate. Shared
/// between the broker's hook, which hears them, and the monitor, which adds them up.
pub type LinkedNodes = Arc<Mutex<BTreeMap<String, (u64, f64)>>>;

/// The sum of what the linked nodes last told.
pub fn linked_sum(nodes: &LinkedNodes) -> Linked {
    let nodes = nodes.lock().unwrap_or_else(|e| e.into_inner());
    Linked {
        nodes: nodes.len(),
        execs: nodes.values().map(|&(execs, _)| execs).sum(),
        execs_per_sec: nodes.values().map(|&(_, rate)| rate).sum(),
    }
}

/// Runs the broker until it is asked to stop (SIGINT) or, on a node with no link, until its `clients` have all
/// left; events from its clients go to `monitor`, the figures of linked nodes to `linked`; with `tells_figures`
/// (a node others may join or that joins one) it tells them its own. Returns when the broker has ended.
pub fn run_broker<MT, SP>(
    shmem_provider: SP,
    listener: TcpListener,
    remote: Option<&str>,
    tells_figures: bool,
    monitor: MT,
    linked: LinkedNodes,
    clients: usize,
) -> Result<(), Error>
where
    MT: Monitor,
    SP: ShMemProvider,
{
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let hook = NodeHook {
        inner: StdLlmpEventHook::<BytesInput, MT>::new(monitor)?,
        compressor: GzipCompressor::new(),
        id: format!("{}:{}", hostname.trim(), std::process::id()),
        clients: HashMap::new(),
        tells_figures,
        told: None,
        linked,
    };
    let mut pages = shmem_provider.clone();
    let mut broker = LlmpBroker::new(shmem_provider, libafl_bolts::tuples::tuple_list!(hook))?;
    // The link before the listener: the listener hands its clients ids from its own count, starting past its own
    // id; started first, it would hand the first local client the id the link takes next, and the link, which
    // drops what looks like its own messages, would pass on none of that client's. And the link not first either:
    // the broker sends its own messages (this node's figures) as client 0, so a silent placeholder page takes that
    // id and the link's proxy gets the next.
    if let Some(remote) = remote {
        let placeholder = LlmpSharedMap::new(ClientId(0), pages.new_shmem(PLACEHOLDER_PAGE)?);
        broker.inner_mut().register_client(placeholder);
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

/// LibAFL's broker hook (the monitor's numbers, new queue entries passed on to every client and linked node) for
/// this node's clients, which also passes on objectives that carry their input (another node runs the input and
/// keeps the finding in its own output folder; LibAFL's hook keeps objectives to itself, as a node's clients share
/// one folder) and tells the linked nodes this node's figures. What comes over a link does not reach the monitor:
/// queue entries and objectives go on to the clients, and the figures of other nodes to `linked`.
struct NodeHook<MT> {
    inner: StdLlmpEventHook<BytesInput, MT>,
    compressor: GzipCompressor,
    /// This node's name among the linked nodes: host name and process id.
    id: String,
    /// Executions of each of this node's clients, as their last event told.
    clients: HashMap<ClientId, u64>,
    /// Whether this node is linked to others (`--listen`, `--remote-broker`) and so tells them its figures.
    tells_figures: bool,
    /// When this node last told its figures, and its executions then.
    told: Option<(Instant, u64)>,
    linked: LinkedNodes,
}

impl<MT> NodeHook<MT> {
    /// The event a message holds, if it holds one.
    fn event(&self, flags: Flags, msg: &[u8]) -> Option<NodeEvent> {
        let decompressed;
        let bytes = if flags & LLMP_FLAG_COMPRESSED == LLMP_FLAG_COMPRESSED {
            decompressed = self.compressor.decompress(msg).ok()?;
            &decompressed[..]
        } else {
            msg
        };
        postcard::from_bytes(bytes).ok()
    }

    /// What to do with a message that came over a link from another node.
    fn over_link(&self, flags: Flags, msg: &[u8]) -> LlmpMsgHookResult {
        match self.event(flags, msg).as_ref().map(|e| &e.event) {
            Some(Event::NewTestcase { .. } | Event::Objective { input: Some(_), .. }) => {
                LlmpMsgHookResult::ForwardToClients
            }
            Some(Event::UpdateUserStats { name, value, .. }) if name == FIGURES_EVENT => {
                if let UserStatsValue::String(text) = value.value()
                    && let Some((node, execs, rate)) = parse_figures(text)
                    && node != self.id
                {
                    self.linked
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(node.to_string(), (execs, rate));
                }
                // On to the clients (which ignore it) and so to the other nodes linked to this one.
                LlmpMsgHookResult::ForwardToClients
            }
            _ => LlmpMsgHookResult::Handled,
        }
    }

    /// This node's figures as an event to pass on, once a [`FIGURES_INTERVAL`].
    fn figures(&mut self) -> Option<(Tag, Flags, Vec<u8>)> {
        let now = Instant::now();
        let execs: u64 = self.clients.values().sum();
        let rate = match self.told {
            Some((at, _)) if now - at < FIGURES_INTERVAL => return None,
            Some((at, before)) => execs.saturating_sub(before) as f64 / (now - at).as_secs_f64(),
            None => 0.0,
        };
        self.told = Some((now, execs));
        let event = EventWithStats::<BytesInput>::new(
            Event::UpdateUserStats {
                name: Cow::Borrowed(FIGURES_EVENT),
                value: UserStats::new(
                    UserStatsValue::String(Cow::Owned(format!("{} {execs} {rate:.1}", self.id))),
                    AggregatorOps::None,
                ),
                phantom: PhantomData,
            },
            ExecStats::new(libafl_bolts::current_time(), 0),
        );
        let bytes = postcard::to_allocvec(&event).ok()?;
        Some((EVENT_TAG, LLMP_FLAG_INITIALIZED, bytes))
    }
}

/// LibAFL's `EventWithStats` read field by field (postcard writes a struct as its fields in order, nested ones
/// included): LibAFL 0.16.1 gives no access to the executions an event carries.
#[derive(serde::Deserialize)]
struct NodeEvent {
    event: Event<BytesInput>,
    _time: Duration,
    executions: u64,
}

/// `NODE_ID EXECS EXECS_PER_SEC`, as [`FIGURES_EVENT`] carries it.
fn parse_figures(text: &str) -> Option<(&str, u64, f64)> {
    let mut parts = text.split(' ');
    let node = parts.next()?;
    let execs = parts.next()?.parse().ok()?;
    let rate = parts.next()?.parse().ok()?;
    Some((node, execs, rate))
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
        if *msg_flags & LLMP_FLAG_FROM_B2B == LLMP_FLAG_FROM_B2B {
            return Ok(self.over_link(*msg_flags, msg));
        }
        // A node linked to others reads its clients' executions from every event; one that is not reads an event
        // only when LibAFL's hook keeps it (to let objectives through), as it did before nodes could link.
        let event = (self.tells_figures && *msg_tag == EVENT_TAG)
            .then(|| self.event(*msg_flags, msg))
            .flatten();
        if let Some(event) = &event {
            self.clients.insert(client_id, event.executions);
            if let Some(figures) = self.figures() {
                new_msgs.push(figures);
            }
        }
        let result = self.inner.on_new_message(
            broker_inner,
            client_id,
            msg_tag,
            msg_flags,
            msg,
            new_msgs,
        )?;
        if !matches!(result, LlmpMsgHookResult::Handled) {
            return Ok(result);
        }
        let event = event.or_else(|| self.event(*msg_flags, msg));
        Ok(
            if event
                .is_some_and(|event| matches!(event.event, Event::Objective { input: Some(_), .. }))
            {
                LlmpMsgHookResult::ForwardToClients
            } else {
                LlmpMsgHookResult::Handled
            },
        )
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
