"""Hand-made checkpoints for TorchCheckpointTest: hostile pickles and containers that once made the Java reader
overflow its stack, hash forever, re-read storages quadratically, overflow offsets or fill the heap; and a file as
torch 0.3 under Python 2 wrote it, which today's torch cannot write. Writes into the folder given as argument; never
loads anything."""
import os
import pickle
import struct
import sys
import zipfile

os.chdir(sys.argv[1])


def z(path, pkl, data={}):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as f:
        f.writestr('archive/data.pkl', pkl)
        for k, v in data.items():
            f.writestr('archive/data/' + k, v)


def g(mod, name):
    return b'c' + mod.encode() + b'\n' + name.encode() + b'\n'


def s(x):
    b = x.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def J(n):
    return b'J' + struct.pack('<i', n)


def L1(n):  # LONG1, 8 bytes
    return b'\x8a\x08' + n.to_bytes(8, 'little', signed=True)


def tup(xs):
    return b'(' + b''.join(L1(x) for x in xs) + b't'


def tensor(key, numel, off, size, stride, legacy=False):
    pid = b'(' + s('storage') + g('torch', 'FloatStorage') + s(key) + s('cpu') + L1(numel) + (b'N' if legacy else b'')
    return (g('torch._utils', '_rebuild_tensor_v2') + b'(' + pid + b'tQ' + L1(off) + tup(size) + tup(stride)
            + b'\x89' + g('collections', 'OrderedDict') + b')R' + b't' + b'R')


P = b'\x80\x02'
z('cyclic-key.pth', P + b'}]q\x01h\x01aN' + b's.')  # a list holding itself, as a dict key
N = 200000
z('deep-key.pth', P + b'}' + b']' * N + b'a' * (N - 1) + b'Ns.')  # lists nested 200,000 deep, as a key
p = P + b'}]q\x000'
for i in range(1, 60):  # L[i] = [L[i-1], L[i-1]]: hashing it takes 2^59 steps
    p += b']h' + bytes([i - 1]) + b'ah' + bytes([i - 1]) + b'aq' + bytes([i]) + (b'0' if i < 59 else b'')
z('dag-key.pth', p + b'Ns.')
# tuples that all hash alike
z('hash-flood.pth', P + b'}' + b''.join(J(i) + J(1000000 - 31 * i) + b'\x86Ns' for i in range(100000)) + b'.')
four = {'0': struct.pack('<4f', 1, 2, 3, 4)}
z('offset-wraps.pth', P + b'}' + s('w') + tensor('0', 4, (1 << 63) - 2 ** 33 + 1, [3, 2], [2 ** 31 - 1] * 2) + b's.',
  four)
z('offset-max.pth', P + b'}' + s('w') + tensor('0', 4, (1 << 63) - 1, [2], [1]) + b's.', four)
# 20,000 names for one view of a 20 MB storage
z('many-views.pth', P + b'}' + tensor('0', 5 << 20, 0, [], []) + b'q\x000'
  + b''.join(s('t%d' % i) + b'h\x00s' for i in range(20000)) + b'.', {'0': b'\0' * (20 << 20)})
z('empty-lists.pth', P + b'}' + b']\x94' * (15 << 19) + b'.')  # 7.9 million lists, each remembered


def legacy(path, little, keys=None):
    out = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
    out += pickle.dumps({'protocol_version': 1001, 'little_endian': little,
                         'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, protocol=2)
    out += P + b'}' + s('w') + tensor('0', 2, 0, [2], [1], legacy=True) + b's.'
    out += keys if keys is not None else pickle.dumps(['0'], protocol=2)
    out += struct.pack('<q', 2) + struct.pack('<2f', 1.5, -2.0)  # torch writes storages little-endian always
    open(path, 'wb').write(out)


legacy('legacy-big-endian-system.pth', False)
legacy('legacy-cyclic-storage-key.pth', True, P + b']q\x00]q\x01h\x01h\x01aa.')


def U(x):  # Python 2's str: SHORT_BINSTRING
    return b'U' + bytes([len(x)]) + x.encode()


def v1_tensor(key, location, numel, off, size, stride):  # torch <= 0.3: _rebuild_tensor(storage, offset, size, stride)
    pid = b'(' + U('storage') + g('torch', 'FloatStorage') + U(key) + U(location) + b'K' + bytes([numel]) + b'Nt'
    ints = lambda xs: b'(' + b''.join(b'K' + bytes([x]) for x in xs) + b't'
    return g('torch._utils', '_rebuild_tensor') + b'(' + pid + b'QK' + bytes([off]) + ints(size) + ints(stride) + b'tR'


# OrderedDict(items) with Python 2's [key, value] lists, str keys, a view with strides, a storage saved from a GPU;
# torch 1.13's torch.load reads it as a = [[1, 2, 3], [4, 5, 6]], b = [[0.5, 2.0], [1.0, 2.5]]
items = [('a', v1_tensor('140210', 'cpu', 6, 0, [2, 3], [3, 1])), ('b', v1_tensor('140388', 'cuda:0', 8, 1, [2, 2], [1, 3]))]
out = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
out += (P + b'}(' + U('protocol_version') + b'M\xe9\x03' + U('little_endian') + b'\x88' + U('type_sizes') + b'}('
        + U('short') + b'K\x02' + U('int') + b'K\x04' + U('long') + b'K\x08uu.')
out += P + g('collections', 'OrderedDict') + b']' + b'(' + b''.join(b'](' + U(k) + v + b'e' for k, v in items) + b'e\x85R.'
out += P + b'](' + U('140210') + U('140388') + b'e.'
out += struct.pack('<q', 6) + struct.pack('<6f', 1, 2, 3, 4, 5, 6) + struct.pack('<q', 8) + struct.pack('<8f', *[i / 2 for i in range(8)])
open('legacy-python2-torch03.pth', 'wb').write(out)
