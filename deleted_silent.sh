#!/bin/sh
# A login deleted while its session is online and the NAS does not answer the Disconnect (down).
# The NAS comes back; the reconcile ("the net for lost packets and NASes that were down") must disconnect it.
cd /tmp/probe8/enf; echo ack > mode; U=x$$; S=X-$$
./cA login add --subscription $(cat rsub) --username $U --password px >/dev/null; sleep 1
CSID=aa:00:00:00:10:01 ./online.sh $U px $S 10.9.7.1 21842 21843 | tail -1 | cut -c1-30
echo silent > mode; : > coa.log
./cA login delete $U; sleep 8; echo ack > mode
./cA enforcement list --login $U | head -3
./cA enforcement status
echo "== reconcile via A"; ./cA enforcement reconcile; sleep 2
echo "== reconcile via B"; ./cB enforcement reconcile; sleep 2
python3 -c "
import json
for l in open('coa.log'): r=json.loads(l); print(r['t'], r['src'], r['code'], r['mode'], r['attrs'][1:3])"
./cA session list --login $U
