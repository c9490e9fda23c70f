//! A plain TCP connection's reading and writing halves over one shared socket.
//!
//! Like `TcpStream::into_split`, with one difference: the socket is shared by reference
//! count, and a lane of the hub that sends a player's frames holds a reference too (see
//! [`Subscription::hand_to_lane`](crate::hub::Subscription::hand_to_lane)). So the socket is
//! closed only when nobody can write to it any more, and the descriptor number cannot be
//! reused under a send. Dropping the writer shuts the sending side down at once, as tokio's
//! owned halves do.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Splits `stream` into halves that share it.
pub fn split(stream: TcpStream) -> (TcpReader, TcpWriter) {
    let stream = Arc::new(stream);
    (
        TcpReader(stream.clone()),
        TcpWriter {
            stream,
            shut_down: false,
        },
    )
}

/// The reading half.
#[derive(Debug)]
pub struct TcpReader(Arc<TcpStream>);

/// The writing half.
#[derive(Debug)]
pub struct TcpWriter {
    stream: Arc<TcpStream>,
    shut_down: bool,
}

impl TcpWriter {
    /// The socket, shared.
    pub fn stream(&self) -> &Arc<TcpStream> {
        &self.stream
    }

    /// Calls `io` until the socket takes it or fails, waiting for room. `io` must clear the
    /// socket's readiness when it would block (tokio's `try_*` calls do).
    pub(crate) fn poll_io<T>(
        &self,
        cx: &mut Context<'_>,
        mut io: impl FnMut(&TcpStream) -> std::io::Result<T>,
    ) -> Poll<std::io::Result<T>> {
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match io(&self.stream) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    fn shut_down(&mut self) -> std::io::Result<()> {
        if !self.shut_down {
            self.shut_down = true;
            rustix::net::shutdown(&*self.stream, rustix::net::Shutdown::Write)?;
        }
        Ok(())
    }
}

impl AsyncRead for TcpReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for TcpWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.poll_io(cx, |s| s.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.poll_io(cx, |s| s.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.get_mut().shut_down())
    }
}

impl Drop for TcpWriter {
    fn drop(&mut self) {
        // A peer already gone makes this fail; nothing to do about it then.
        let _ = self.shut_down();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test]
    async fn halves_read_write_and_shut_down() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let connect = TcpStream::connect(listener.local_addr().unwrap());
        let (accepted, peer) = tokio::join!(listener.accept(), connect);
        let (mut reader, mut writer) = split(accepted.unwrap().0);
        let mut peer = peer.unwrap();

        peer.write_all(b"ping").await.unwrap();
        let mut got = [0; 4];
        reader.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");

        let bufs = [IoSlice::new(b"po"), IoSlice::new(b"ng")];
        let n = writer.write_vectored(&bufs).await.unwrap();
        assert_eq!(n, 4);
        // Another holder of the socket does not keep the peer from seeing the end.
        let other = writer.stream().clone();
        drop(writer);
        let mut rest = Vec::new();
        let wait = std::time::Duration::from_secs(10);
        tokio::time::timeout(wait, peer.read_to_end(&mut rest))
            .await
            .expect("the end within the wait")
            .unwrap();
        assert_eq!(rest, b"pong");
        drop(other);

        peer.shutdown().await.unwrap();
        let mut end = Vec::new();
        assert_eq!(reader.read_to_end(&mut end).await.unwrap(), 0);
    }
}
