//! Reads into uninitialised memory (`poll_read_uninit` / `read_uninit`) of TCP and Unix
//! streams and their read halves, over loopback, on each runtime flavour: every byte sent
//! arrives and nothing past the bytes read is written; end-of-file is `0`, again and again;
//! an empty socket is `Pending` (its `WouldBlock` never reaches the caller, stale readiness
//! included) and the reactor wakes the reader when data comes.

use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

use taskio_runtime::net::{tcp, unix, TcpListener, TcpStream, UnixStream};
use taskio_runtime::spawn;
use taskio_tests::io::{close, write_all};
use taskio_tests::{rt_tests, Flavor};

rt_tests!(
    bytes_sent_arrive,
    eof_is_zero_every_time,
    empty_socket_is_pending_then_woken
);

/// The four readers under test, behind one interface.
trait ReadUninit: Send + Sync + 'static {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

macro_rules! read_uninit_impl {
    ($($ty:ty),*) => {$(
        impl ReadUninit for $ty {
            fn poll_read_uninit(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [MaybeUninit<u8>],
            ) -> Poll<io::Result<usize>> {
                <$ty>::poll_read_uninit(self, cx, buf)
            }
        }
    )*};
}
read_uninit_impl!(
    TcpStream,
    tcp::OwnedReadHalf,
    UnixStream,
    unix::OwnedReadHalf
);

/// A sending end: any of the runtime's streams, as a `futures_io::AsyncWrite`.
type Sender = Box<dyn futures_io::AsyncWrite + Send + Unpin>;

/// `(name, reader, the peer's sending end)` for each kind of reader.
async fn pairs() -> Vec<(&'static str, Box<dyn ReadUninit>, Sender)> {
    async fn tcp_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, server)
    }
    let mut out: Vec<(&'static str, Box<dyn ReadUninit>, Sender)> = Vec::new();
    let (c, s) = tcp_pair().await;
    out.push(("TcpStream", Box::new(c), Box::new(s)));
    let (c, s) = tcp_pair().await;
    let (r, _w) = c.into_split();
    out.push(("tcp::OwnedReadHalf", Box::new(r), Box::new(s)));
    let (c, s) = UnixStream::pair().unwrap();
    out.push(("UnixStream", Box::new(c), Box::new(s)));
    let (c, s) = UnixStream::pair().unwrap();
    let (r, _w) = c.into_split();
    out.push(("unix::OwnedReadHalf", Box::new(r), Box::new(s)));
    out
}

async fn read_uninit(r: &dyn ReadUninit, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    poll_fn(|cx| r.poll_read_uninit(cx, buf)).await
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Sentinel written before each read into `probe`: what the read did not write keeps it.
const SENTINEL: u8 = 0xA5;

fn bytes_sent_arrive(flavor: Flavor) {
    flavor.rt().block_on(async {
        for (name, reader, mut sender) in pairs().await {
            let sent = pattern(300 * 1024);
            let expect = sent.clone();
            let writer = spawn(async move {
                write_all(&mut sender, &sent).await.unwrap();
                close(&mut sender).await.unwrap();
            });
            // Reads alternate between a Vec's spare capacity (memory never initialised) and a
            // probe buffer full of a sentinel (to see what a read writes).
            let mut got: Vec<u8> = Vec::with_capacity(expect.len());
            let mut probe = vec![MaybeUninit::new(SENTINEL); 3000];
            let mut reads = 0usize;
            loop {
                let n = if reads % 2 == 0 {
                    let spare = got.spare_capacity_mut();
                    let max = spare.len().min(8192);
                    let n = read_uninit(&*reader, &mut spare[..max]).await.unwrap();
                    assert!(n <= max, "{name}: read {n} into {max}");
                    // SAFETY: `read_uninit` initialised the first `n` bytes of the spare
                    // capacity (its contract), and `n <= spare.len()`.
                    unsafe { got.set_len(got.len() + n) };
                    if n == 0 && max == 0 {
                        // Capacity used up: grow, so that EOF can be told from a full Vec.
                        got.reserve(1);
                        reads += 1;
                        continue;
                    }
                    n
                } else {
                    probe.fill(MaybeUninit::new(SENTINEL));
                    let n = read_uninit(&*reader, &mut probe).await.unwrap();
                    assert!(n <= probe.len());
                    // SAFETY: every byte of `probe` was initialised by `fill` or by the read.
                    let all: Vec<u8> = probe.iter().map(|b| unsafe { b.assume_init() }).collect();
                    assert!(
                        all[n..].iter().all(|&b| b == SENTINEL),
                        "{name}: a read of {n} bytes wrote past them"
                    );
                    got.extend_from_slice(&all[..n]);
                    n
                };
                reads += 1;
                if n == 0 {
                    break;
                }
            }
            writer.await.unwrap();
            assert_eq!(got.len(), expect.len(), "{name}: length");
            assert!(got == expect, "{name}: bytes differ");
            assert!(reads > 2, "{name}: {reads} reads");
        }
    });
}

fn eof_is_zero_every_time(flavor: Flavor) {
    flavor.rt().block_on(async {
        for (name, reader, mut sender) in pairs().await {
            write_all(&mut sender, b"last words").await.unwrap();
            close(&mut sender).await.unwrap();
            let mut buf = [MaybeUninit::<u8>::uninit(); 64];
            let mut got = Vec::new();
            loop {
                let n = read_uninit(&*reader, &mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                // SAFETY: the read initialised `buf[..n]`.
                got.extend(buf[..n].iter().map(|b| unsafe { b.assume_init() }));
            }
            assert_eq!(got, b"last words", "{name}");
            for _ in 0..3 {
                assert_eq!(read_uninit(&*reader, &mut buf).await.unwrap(), 0, "{name}");
            }
            drop(sender);
        }
    });
}

fn empty_socket_is_pending_then_woken(flavor: Flavor) {
    flavor.rt().block_on(async {
        for (name, reader, sender) in pairs().await {
            let mut buf = [MaybeUninit::<u8>::uninit(); 64];
            // 1. Nothing sent: Pending (the read's WouldBlock is not returned). The writer is
            //    started only then, so the reader's wake-up must come from the reactor.
            let mut sender = Some(sender);
            let mut writer = None;
            let n = poll_fn(|cx| match reader.poll_read_uninit(cx, &mut buf) {
                Poll::Pending => {
                    if let Some(mut s) = sender.take() {
                        writer = Some(spawn(async move {
                            write_all(&mut s, b"wake").await.unwrap();
                            s
                        }));
                    }
                    Poll::Pending
                }
                Poll::Ready(r) => {
                    assert!(sender.is_none(), "{name}: ready before anything was sent");
                    Poll::Ready(r)
                }
            })
            .await
            .unwrap();
            // SAFETY: the read initialised `buf[..n]`.
            let got: Vec<u8> = buf[..n]
                .iter()
                .map(|b| unsafe { b.assume_init() })
                .collect();
            assert_eq!(got, b"wake", "{name}");
            let mut sender = writer.unwrap().await.unwrap();
            // 2. Everything read, the readiness still set (a short read does not clear it):
            //    the next poll reads, gets WouldBlock, clears it and is Pending.
            let now = poll_fn(|cx| Poll::Ready(reader.poll_read_uninit(cx, &mut buf))).await;
            assert!(now.is_pending(), "{name}: {now:?} with nothing sent");
            // 3. The peer closes: the parked reader is woken and reads EOF.
            let closer = spawn(async move {
                close(&mut sender).await.unwrap();
                sender
            });
            assert_eq!(read_uninit(&*reader, &mut buf).await.unwrap(), 0, "{name}");
            drop(closer.await.unwrap());
        }
    });
}
