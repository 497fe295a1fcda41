//! "echo": the asyncio docs' TCP echo server and client ("Streams" page), on loopback. The
//! server echoes one message per connection; three clients talk to it at once; then the
//! server is closed, so the program ends by itself.
//!
//! Run it with `cargo run --example echo`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::since;
use taskio::{gather, open_connection, start_server, Result, StreamReader, StreamWriter};

/// asyncio's docs:
/// ```python
/// async def handle_echo(reader, writer):
///     data = await reader.read(100)
///     message = data.decode()
///     addr = writer.get_extra_info('peername')
///     print(f"Received {message!r} from {addr!r}")
///     print(f"Send: {message!r}")
///     writer.write(data)
///     await writer.drain()
///     print("Close the connection")
///     writer.close()
///     await writer.wait_closed()
/// ```
async fn handle_echo(mut reader: StreamReader, writer: StreamWriter) -> Result<()> {
    let data = reader.read(100).await?;
    let message = String::from_utf8_lossy(&data).into_owned();
    let addr = writer.peername().map(|a| a.to_string()).unwrap_or_default();
    println!("  server: received {message:?} from {addr}, sending it back, closing");
    writer.write(&data)?;
    writer.drain().await?;
    writer.close();
    writer.wait_closed().await
}

/// asyncio's docs:
/// ```python
/// async def tcp_echo_client(message):
///     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
///     print(f'Send: {message!r}')
///     writer.write(message.encode())
///     await writer.drain()
///     data = await reader.read(100)
///     print(f'Received: {data.decode()!r}')
///     print('Close the connection')
///     writer.close()
///     await writer.wait_closed()
/// ```
async fn tcp_echo_client(port: u16, message: String) -> Result<String> {
    let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    writer.write(message.as_bytes())?;
    writer.drain().await?;
    let data = reader.read(100).await?;
    let reply = String::from_utf8_lossy(&data).into_owned();
    writer.close();
    writer.wait_closed().await?;
    Ok(reply)
}

/// Runs the program (it has no sleeps to scale).
pub fn demo(_scale: f64) -> Result<()> {
    println!("echo (no sleeps: loopback TCP, port picked by the OS)");
    taskio::run(async {
        let start = Instant::now();
        // asyncio: server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888)
        let server = start_server(handle_echo, "127.0.0.1", 0).await?;
        let addr = server.sockets()[0].as_inet().expect("a TCP socket");
        println!("  serving on {addr}");
        let replies = gather(
            ["Hello World!", "Hello asyncio!", "Hello taskio!"]
                .map(|m| tcp_echo_client(addr.port(), m.to_owned())),
        )
        .await?;
        for r in &replies {
            println!("  client: received {r:?}");
        }
        server.close();
        server.wait_closed().await?;
        println!(
            "  server closed; {} round trips in {}",
            replies.len(),
            since(start)
        );
        Ok(())
    })
}

#[allow(dead_code)]
fn main() {
    demo(1.0).expect("echo failed");
}
