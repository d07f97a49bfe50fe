// The mail server and SMS provider the end-to-end server sends to: an SMTP listener and an
// HTTP endpoint speaking Africa's Talking's sending API, both on loopback. Every message they
// accept is appended to a JSON-lines file the tests read (the address in PREPAID_E2E_OUTBOX).
//
//   node outbox.mjs OUTBOX_FILE SMTP_PORT SMS_PORT

import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer as tcp } from 'node:net';
import { createServer as http } from 'node:http';

const [file, smtpPort, smsPort] = process.argv.slice(2);
writeFileSync(file, '');
const keep = (message) => appendFileSync(file, `${JSON.stringify(message)}\n`);

tcp((socket) => {
  let buffer = '';
  let data = null;
  let to = [];
  socket.write('220 outbox.test ESMTP\r\n');
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let end;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (data !== null) {
        if (line === '.') {
          keep({ channel: 'email', to, data: data.join('\n') });
          data = null;
          to = [];
          socket.write('250 accepted\r\n');
        } else {
          data.push(line.startsWith('.') ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'DATA') {
        data = [];
        socket.write('354 go on\r\n');
      } else if (verb === 'RCPT') {
        to.push(line.slice(8).trim().replace(/[<>]/g, ''));
        socket.write('250 OK\r\n');
      } else if (verb === 'QUIT') {
        socket.end('221 bye\r\n');
      } else {
        socket.write('250 OK\r\n');
      }
    }
  });
  socket.on('error', () => {});
}).listen(Number(smtpPort), '127.0.0.1');

let texted = 0;
http((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    const form = new URLSearchParams(body);
    const id = `ATXid_e2e_${++texted}`;
    keep({ channel: 'sms', to: form.get('to'), text: form.get('message'), id });
    response.writeHead(201, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ SMSMessageData: { Message: 'Sent to 1/1', Recipients: [
      { statusCode: 101, number: form.get('to'), status: 'Success', messageId: id },
    ] } }));
  });
}).listen(Number(smsPort), '127.0.0.1');
