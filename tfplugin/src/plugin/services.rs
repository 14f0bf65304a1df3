//! go-plugin's side services: controller (shutdown), stdio and broker.
use std::pin::Pin;

use futures::Stream;
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::goplugin as gp;

/// A stream that yields nothing and ends when the server shuts down.
fn until_shutdown<T: Send + 'static>(
    mut rx: watch::Receiver<bool>,
) -> Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>> {
    Box::pin(
        futures::stream::once(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })
        .filter_map(|_| async { None }),
    )
}

use futures::StreamExt;

pub struct Controller {
    pub shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _r: Request<()>) -> Result<Response<()>, Status> {
        tracing::debug!("GRPCController.Shutdown");
        let _ = self.shutdown.send(true);
        Ok(Response::new(()))
    }
}

pub struct Stdio {
    pub shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl gp::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Pin<Box<dyn Stream<Item = Result<gp::StdioData, Status>> + Send>>;
    /// Our logs go to stderr, which go-plugin already reads; nothing extra to stream.
    async fn stream_stdio(
        &self,
        _r: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(until_shutdown(self.shutdown.clone())))
    }
}

pub struct Broker {
    pub shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl gp::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Pin<Box<dyn Stream<Item = Result<gp::ConnInfo, Status>> + Send>>;
    /// The provider protocol never asks for extra connections; keep the stream open and idle.
    async fn start_stream(
        &self,
        r: Request<Streaming<gp::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = r.into_inner();
        tokio::spawn(async move { while let Some(Ok(_)) = incoming.next().await {} });
        Ok(Response::new(until_shutdown(self.shutdown.clone())))
    }
}
