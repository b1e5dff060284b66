"""Hand-made hostile checkpoints for TorchCheckpointTest: pickles and containers that once made the Java reader
overflow its stack, hash forever, re-read storages quadratically, overflow offsets or fill the heap. Writes into the
folder given as argument; never loads anything."""
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
p = P + b'}'
for i in range(100000):  # tuples that all hash alike
    p += J(i) + J(1000000 - 31 * i) + b'\x86N' + b's'
z('hash-flood.pth', p + b'.')
four = {'0': struct.pack('<4f', 1, 2, 3, 4)}
z('offset-wraps.pth', P + b'}' + s('w') + tensor('0', 4, (1 << 63) - 2 ** 33 + 1, [3, 2], [2 ** 31 - 1] * 2) + b's.',
  four)
z('offset-max.pth', P + b'}' + s('w') + tensor('0', 4, (1 << 63) - 1, [2], [1]) + b's.', four)
p = P + b'}' + tensor('0', 5 << 20, 0, [], []) + b'q\x000'
for i in range(20000):  # 20,000 names for one view of a 20 MB storage
    p += s('t%d' % i) + b'h\x00s'
z('many-views.pth', p + b'.', {'0': b'\0' * (20 << 20)})
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
