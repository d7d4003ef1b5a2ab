// A gRPC client in another language: Node.js with @grpc/grpc-js and @grpc/proto-loader (the
// gRPC project's own JavaScript implementation), loading Atlas's .proto files as they are.
// Usage: node node_client.js PROTO_DIR TARGET TOKEN ACCOUNT SYMBOL
// Prints one JSON object: what it was answered (tests/grpc_api/test_grpc_node.py checks it).
"use strict";
const path = require("path");
const grpc = require("@grpc/grpc-js");
const loader = require("@grpc/proto-loader");

const [protoDir, target, token, account, symbol] = process.argv.slice(2);
const definition = loader.loadSync(
  ["orders.proto", "types.proto"].map((f) => path.join(protoDir, "atlas", "v1", f)),
  { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true, includeDirs: [protoDir] },
);
const atlas = grpc.loadPackageDefinition(definition).atlas.v1;
const orders = new atlas.Orders(target, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.set("x-api-key", token);

function call(method, request) {
  return new Promise((resolve, reject) => {
    orders[method](request, metadata, { deadline: Date.now() + 30000 }, (err, answer) =>
      err ? reject(err) : resolve(answer),
    );
  });
}

async function main() {
  const out = {};
  // a stream of the account's durable order updates, opened before the order
  const updates = [];
  const stream = orders.StreamOrderUpdates({ account_id: account }, metadata);
  let seen;
  const canceled = new Promise((resolve) => (seen = resolve));
  stream.on("data", (u) => {
    updates.push({ type: u.type, order_id: u.order_id, status: u.order && u.order.status });
    if (u.type === "OrderCanceled") seen();
  });
  stream.on("error", () => {}); // cancelled at the end
  await new Promise((r) => setTimeout(r, 300)); // the stream is open on the server

  const placed = await call("SubmitOrder", {
    account_id: account, symbol, side: "SIDE_SELL", order_type: "ORDER_TYPE_LIMIT",
    qty: "0.25", price: "32000.5", client_order_id: "from-node",
  });
  out.placed = { order_id: placed.order_id, status: placed.status, price: placed.price, qty: placed.qty };
  const found = await call("GetOrder", { account_id: account, client_order_id: "from-node" });
  out.found = { order_id: found.order_id, status: found.status };
  try {
    await call("SubmitOrder", {
      account_id: account, symbol, side: "SIDE_BUY", order_type: "ORDER_TYPE_LIMIT",
      qty: "100000", price: "30000",
    });
    out.denied = null;
  } catch (err) {
    out.denied = { code: grpc.status[err.code], reason: err.metadata.get("atlas-reason")[0],
                   order_id: err.metadata.get("atlas-order-id")[0] };
  }
  try {
    await call("GetOrder", { account_id: "alice", order_id: placed.order_id });
    out.other = null;
  } catch (err) {
    out.other = { code: grpc.status[err.code], reason: err.metadata.get("atlas-reason")[0] };
  }
  const gone = await call("CancelOrder", { account_id: account, order_id: placed.order_id });
  out.canceled = gone.status;
  await Promise.race([canceled, new Promise((r) => setTimeout(r, 20000).unref())]);
  stream.cancel();
  out.updates = updates.filter((u) => u.order_id === placed.order_id);
  console.log(JSON.stringify(out));
  orders.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
