//! One shape for every service (moto's split: per service a folder with its wire layer and its
//! backend). A service is its table: target prefix, SigV4 signing name, protocol, and one
//! operation table that is dispatch and catalogue at once (`hastack-local status` lists it and
//! the fidelity suites check every entry was exercised).
//!
//! Adding a service: a folder with its `Backend` (Default), handlers and a `SERVICE` table, and
//! one line in `registry::SERVICES`. Its state is kept per (account, region), or once for the
//! whole emulator (`Scope::Global`, as STS), without touching `state.rs`.
use serde_json::Value as Json;

use crate::error::AwsError;
use crate::state::State;
use crate::{Ctx, Handler};

/// How a service's requests are framed (rpcv2-CBOR is chosen per request by its path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    AwsJson10,
    AwsJson11,
    /// Form-encoded requests, XML answers (STS).
    AwsQuery,
}

pub trait Service: Sync {
    /// The name in call counts and faults (`Lightsail.CreateInstances`).
    fn name(&self) -> &'static str;
    /// botocore's name for the service (the model the fidelity suite checks against).
    fn model(&self) -> &'static str;
    /// `X-Amz-Target: <prefix>.<Operation>` (or `/service/<prefix>/operation/<Operation>`).
    fn target_prefix(&self) -> &'static str;
    /// The service in a SigV4 credential scope.
    fn signing_name(&self) -> &'static str;
    fn protocol(&self) -> Protocol;
    /// The operation table's names.
    fn operations(&self) -> Vec<&'static str>;
    /// Operations clients send without a signature.
    fn unsigned(&self, operation: &str) -> bool;
    /// Run `operation`; `None` when this service does not implement it.
    fn call(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        operation: &str,
        input: &Json,
    ) -> Option<Result<Json, AwsError>>;
    /// What exists in the call's account and region (names, counts; never a secret).
    fn summary(&self, st: &mut State, ctx: &Ctx<'_>) -> Option<Json>;
}

/// Where a service keeps its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One backend per (account, region), like moto's `BackendDict`.
    Regional,
    /// One backend for the whole emulator.
    Global,
}

/// A service as data: the usual way to implement `Service`.
pub struct Table<B: 'static> {
    pub name: &'static str,
    pub model: &'static str,
    pub target_prefix: &'static str,
    pub signing_name: &'static str,
    pub protocol: Protocol,
    pub scope: Scope,
    pub operations: &'static [(&'static str, Handler<B>)],
    pub unsigned: &'static [&'static str],
    pub summary: Option<fn(&B, &Ctx<'_>) -> Json>,
}

impl<B: Default + Send + 'static> Table<B> {
    fn backend<'s>(&self, st: &'s mut State, ctx: &Ctx<'_>) -> &'s mut B {
        match self.scope {
            Scope::Regional => st.backend::<B>(ctx.account, ctx.region),
            Scope::Global => st.global::<B>(),
        }
    }
}

impl<B: Default + Send + 'static> Service for Table<B> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn model(&self) -> &'static str {
        self.model
    }
    fn target_prefix(&self) -> &'static str {
        self.target_prefix
    }
    fn signing_name(&self) -> &'static str {
        self.signing_name
    }
    fn protocol(&self) -> Protocol {
        self.protocol
    }
    fn operations(&self) -> Vec<&'static str> {
        self.operations.iter().map(|(n, _)| *n).collect()
    }
    fn unsigned(&self, operation: &str) -> bool {
        self.unsigned.contains(&operation)
    }
    fn call(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        operation: &str,
        input: &Json,
    ) -> Option<Result<Json, AwsError>> {
        let (_, h) = self.operations.iter().find(|(n, _)| *n == operation)?;
        Some(h(self.backend(st, ctx), ctx, input))
    }
    fn summary(&self, st: &mut State, ctx: &Ctx<'_>) -> Option<Json> {
        let f = self.summary?;
        Some(f(self.backend(st, ctx), ctx))
    }
}
