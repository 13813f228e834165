// The peer of bench_notify.py: node's `smpp` client binds once and submits N UCS-2 messages
// stop-and-wait (each after the previous submit_sm_resp), then unbinds. Prints seconds.
'use strict';
const smpp = require('smpp');
const [port, n, text] = [parseInt(process.argv[2], 10), parseInt(process.argv[3], 10), process.argv[4]];
const session = smpp.connect({ url: `smpp://127.0.0.1:${port}` });
const started = process.hrtime.bigint();
session.bind_transceiver({ system_id: 'bench', password: 'secret1' }, (pdu) => {
  if (pdu.command_status !== 0) { console.error('bind failed'); process.exit(1); }
  let i = 0;
  const next = () => {
    if (i === n) {
      session.unbind(() => {
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        process.stdout.write(`${s}\n`);
        session.close();
        process.exit(0);
      });
      return;
    }
    i += 1;
    session.submit_sm({ destination_addr: '13912345678', short_message: text, data_coding: 8,
      registered_delivery: 0 }, () => next());
  };
  next();
});
session.on('deliver_sm', (pdu) => session.send(pdu.response()));
