"""Inspects the bytes of a PyTorch checkpoint before torch.load sees them.

torch.load is not safe on a hostile file even with weights_only=True: torch 1.13 hands any zip holding a
constants.pkl to torch.jit.load, which runs the archive's code, and the sizes a checkpoint declares decide
what torch allocates. inspect() parses the bytes without executing or allocating anything they describe,
and raises CheckpointError (one line) unless they are a plain torch.save of dense tensors:
- zip serialization (torch >= 1.6): only ARCHIVE/data.pkl, data/KEY, version, byteorder and .data/NAME,
  every entry stored uncompressed and read back in full, and torch's own zip reader seeing the same
  entries and the same data.pkl;
- legacy serialization (torch < 1.6 or _use_new_zipfile_serialization=False, as the official BagNet
  files): magic number, protocol 1001, sys_info, the object pickle, its storage keys, then each storage's
  element count and bytes, up to the end of the file;
- the pickles: only the opcodes and globals a state_dict needs (collections.OrderedDict,
  torch._utils._rebuild_tensor_v2, torch.<Type>Storage), each storage as big as the bytes the file holds
  for it, each tensor inside its storage and repeating no element (stride 0).
"""
import dataclasses
import io
import math
import pickle
import pickletools
import re
import struct
import zipfile

import torch

ZIP_MAGIC = b"PK\x03\x04"  # torch.load's own test for the zip serialization
# What a legacy torch.save writes first: its magic number and protocol version, pickled with protocol 2.
LEGACY_HEADER = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
ELEMENT_SIZES = {"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8,
                 "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
                 "BoolStorage": 1}
REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2"
ORDERED_DICT = "collections.OrderedDict"
STORAGE_KINDS = {"torch." + kind: kind for kind in ELEMENT_SIZES}
ALLOWED_GLOBALS = {REBUILD_TENSOR, ORDERED_DICT, *STORAGE_KINDS}
# What torch.save writes for a state_dict (pickle protocol 2); torch 1.13's weights_only loader reads no more.
PUSHES_ARGUMENT = {"BINUNICODE", "BININT", "BININT1", "BININT2", "LONG1"}
PUSHES_NEW = {"EMPTY_DICT": dict, "EMPTY_LIST": list, "EMPTY_TUPLE": tuple, "NONE": lambda: None,
              "NEWTRUE": lambda: True, "NEWFALSE": lambda: False}
MAX_DIMS = 8  # BagNet tensors have at most 4; the bound keeps size products cheap
ZIP_ENTRY = re.compile(r"data\.pkl|version|byteorder|(data|\.data)/[^/]+")
# What zipfile raises on a malformed archive.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError,
              struct.error)


class CheckpointError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Global:
    """A module attribute the pickle names (an allowed one); never imported."""
    name: str


@dataclasses.dataclass(frozen=True)
class Storage:
    key: str
    kind: str  # e.g. "FloatStorage"
    numel: int

    @property
    def nbytes(self):
        return self.numel * ELEMENT_SIZES[self.kind]


class Tensor:
    """Stands for a tensor the pickle would build, once its view of its storage has been checked."""


def inspect(data):
    """Raises CheckpointError unless data is a torch.save of dense tensors that torch.load may read."""
    if data[:4] == ZIP_MAGIC:
        inspect_zip(data)
    else:
        inspect_legacy(data)


def inspect_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = named_entries(archive)
        for name, info in entries.items():
            check_stored(name, info, len(data))
        pickle_bytes = read_entries(archive, entries)
    except ZIP_ERRORS as e:
        raise CheckpointError("malformed zip: %s" % first_line(e))
    reader = PickleReader(persistent_id_length=5)
    reader.read(io.BytesIO(pickle_bytes))
    check_zip_storages(reader.storages, entries)
    check_torch_reads_the_same(data, entries, pickle_bytes)


def named_entries(archive):
    """Entry name inside the archive folder -> ZipInfo, for the entries a torch.save zip may hold."""
    infos = archive.infolist()
    if not infos:
        raise CheckpointError("empty zip")
    folder = infos[0].filename.split("/", 1)[0]
    entries = {}
    for info in infos:
        top, _, name = info.filename.partition("/")
        if top != folder or not name:
            raise CheckpointError("zip entry %r is outside the archive folder %r" % (info.filename, folder))
        if name in entries:
            raise CheckpointError("zip holds %r twice" % info.filename)
        entries[name] = info
    if "constants.pkl" in entries or any(name.startswith("code/") for name in entries):
        raise CheckpointError("TorchScript archive (it holds code/ or constants.pkl): loading it would run its "
                              "code; save the model's state_dict() instead")
    for name in entries:
        if not ZIP_ENTRY.fullmatch(name):
            raise CheckpointError("unexpected zip entry %r" % entries[name].filename)
    if "data.pkl" not in entries:
        raise CheckpointError("zip has no data.pkl")
    return entries


def check_stored(name, info, file_size):
    # torch.save stores entries as they are: a compressed one could inflate far beyond the file.
    if info.compress_type != zipfile.ZIP_STORED:
        raise CheckpointError("zip entry %r is compressed" % name)
    if info.file_size != info.compress_size:
        raise CheckpointError("zip entry %r has a stored size unlike its size" % name)
    if info.flag_bits & 0x1:
        raise CheckpointError("zip entry %r is encrypted" % name)
    if info.header_offset + info.compress_size > file_size:
        raise CheckpointError("zip entry %r ends past the end of the file" % name)


def read_entries(archive, entries):
    """Reads every entry in full, so that zipfile checks its local header, length and CRC; returns data.pkl."""
    for name, info in entries.items():
        content = archive.read(info)
        if name == "data.pkl":
            pickle_bytes = content
    return pickle_bytes


def check_zip_storages(storages, entries):
    stored = {name[len("data/"):]: info.file_size for name, info in entries.items() if name.startswith("data/")}
    for key, storage in storages.items():
        if key not in stored:
            raise CheckpointError("storage %r has no zip entry" % key)
        if stored[key] != storage.nbytes:
            raise CheckpointError("storage %r declares %d bytes but its zip entry holds %d"
                                  % (key, storage.nbytes, stored[key]))
    for key in stored:
        if key not in storages:
            raise CheckpointError("zip entry data/%s belongs to no tensor" % key)


def check_torch_reads_the_same(data, entries, pickle_bytes):
    # torch.load parses the zip with its own reader (miniz), not zipfile: a crafted file could show the two
    # different entries, e.g. hide a constants.pkl from the checks above.
    try:
        reader = torch._C.PyTorchFileReader(io.BytesIO(data))
        same = set(reader.get_all_records()) == set(entries) and reader.get_record("data.pkl") == pickle_bytes
    except RuntimeError as e:
        raise CheckpointError("torch cannot read the zip: %s" % first_line(e))
    if not same:
        raise CheckpointError("torch's zip reader sees other entries than Python's zipfile")


def inspect_legacy(data):
    if not data.startswith(LEGACY_HEADER):
        raise CheckpointError("neither a zip nor a legacy torch.save file (no magic number)")
    stream = io.BytesIO(data)
    stream.seek(len(LEGACY_HEADER))
    if not isinstance(PickleReader().read(stream), dict):
        raise CheckpointError("malformed legacy header (sys_info is not a dict)")
    reader = PickleReader(persistent_id_length=6)
    reader.read(stream)
    keys = PickleReader().read(stream)
    if not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)
            and len(set(keys)) == len(keys) and set(keys) == set(reader.storages)):
        raise CheckpointError("the storage list does not match the storages the tensors use")
    for key in keys:
        skip_legacy_storage(stream, reader.storages[key], len(data))
    if stream.tell() != len(data):
        raise CheckpointError("%d bytes follow the last storage" % (len(data) - stream.tell()))


def skip_legacy_storage(stream, storage, file_size):
    """Moves past one storage record: its element count (8 bytes, little-endian), then its bytes."""
    count = stream.read(8)
    if len(count) < 8 or stream.tell() + storage.nbytes > file_size:
        raise CheckpointError("storage %r runs past the end of the file" % storage.key)
    (held,) = struct.unpack("<q", count)
    if held != storage.numel:
        raise CheckpointError("storage %r holds %d elements but declares %d" % (storage.key, held, storage.numel))
    stream.seek(storage.nbytes, io.SEEK_CUR)


def check_view(storage, offset, size, stride):
    """A tensor must lie inside its storage and repeat no element: else a small file makes a huge tensor."""
    if any(step == 0 and length > 1 for length, step in zip(size, stride)):
        raise CheckpointError("a tensor on storage %r repeats its elements (stride 0)" % storage.key)
    numel = math.prod(size)
    last = offset + sum((length - 1) * step for length, step in zip(size, stride))
    if numel and (numel > storage.numel - offset or last >= storage.numel):
        raise CheckpointError("a tensor of size %s at offset %d reaches past its storage %r of %d elements"
                              % (list(size), offset, storage.key, storage.numel))


def is_count(value):
    return type(value) is int and value >= 0


def is_shape(value):
    return isinstance(value, tuple) and len(value) <= MAX_DIMS and all(is_count(v) for v in value)


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class PickleReader:
    """Follows one pickle's opcodes on stand-ins: checks what loading it would do, without doing it."""

    def __init__(self, persistent_id_length=None):
        self.persistent_id_length = persistent_id_length  # None: the pickle may refer to no storage
        self.storages = {}

    def read(self, stream):
        """The object the pickle at the stream's position describes; leaves the stream after its STOP."""
        self.stack, self.marks, self.memo = [], [], {}
        position = stream.tell()
        try:
            for opcode, arg, position in pickletools.genops(stream):
                self.step(opcode.name, arg)
        except ValueError as e:  # genops: truncated data, unknown opcode, bad UTF-8
            raise CheckpointError("malformed pickle at byte %d: %s" % (position, first_line(e)))
        except (IndexError, KeyError):  # stack, mark or memo underflow
            raise CheckpointError("malformed pickle at byte %d" % position)
        return self.stack[0]

    def step(self, name, arg):
        stack = self.stack
        if name in PUSHES_ARGUMENT:
            stack.append(arg)
        elif name in PUSHES_NEW:
            stack.append(PUSHES_NEW[name]())
        elif name == "PROTO":
            if not 2 <= arg <= 5:
                raise CheckpointError("pickle protocol %d (torch.save writes 2)" % arg)
        elif name == "MARK":
            self.marks.append(len(stack))
        elif name == "TUPLE":
            stack.append(tuple(self.pop_mark()))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            self.pack(int(name[-1]))
        elif name in ("BINPUT", "LONG_BINPUT"):
            self.memo[arg] = stack[-1]
        elif name in ("BINGET", "LONG_BINGET"):
            stack.append(self.memo[arg])
        elif name == "GLOBAL":
            stack.append(self.named_global(arg))
        elif name == "REDUCE":
            arguments = stack.pop()
            stack[-1] = self.call(stack[-1], arguments)
        elif name == "BINPERSID":
            stack.append(self.storage(stack.pop()))
        elif name == "BUILD":
            self.build(stack.pop(), stack[-1])
        elif name == "SETITEM":
            value, key = stack.pop(), stack.pop()
            self.set_items(stack[-1], [key, value])
        elif name == "SETITEMS":
            items = self.pop_mark()
            self.set_items(stack[-1], items)
        elif name == "APPEND":
            item = stack.pop()
            self.extend(stack[-1], [item])
        elif name == "APPENDS":
            items = self.pop_mark()
            self.extend(stack[-1], items)
        elif name == "STOP":
            if len(stack) != 1 or self.marks:
                raise CheckpointError("malformed pickle (unbalanced stack at STOP)")
        else:
            raise CheckpointError("pickle opcode %s is not allowed in a state_dict" % name)

    def pop_mark(self):
        mark = self.marks.pop()
        items = self.stack[mark:]
        del self.stack[mark:]
        return items

    def pack(self, count):
        if len(self.stack) < count:
            raise IndexError
        items = tuple(self.stack[-count:])
        del self.stack[-count:]
        self.stack.append(items)

    def named_global(self, arg):
        name = arg.replace(" ", ".", 1)  # genops gives "module name"
        if name not in ALLOWED_GLOBALS:
            raise CheckpointError("pickle uses the forbidden global %s" % name)
        return Global(name)

    def call(self, function, arguments):
        if function == Global(ORDERED_DICT) and arguments == ():
            return {}
        if function == Global(REBUILD_TENSOR):
            return self.tensor(arguments)
        name = function.name if isinstance(function, Global) else type(function).__name__
        raise CheckpointError("pickle makes an unsupported call to %s" % name)

    def storage(self, pid):
        if self.persistent_id_length is None or not (
                isinstance(pid, tuple) and len(pid) == self.persistent_id_length and pid[0] == "storage"):
            raise CheckpointError("pickle refers to something other than a storage")
        kind, key, location, numel = pid[1:5]
        if not (isinstance(kind, Global) and kind.name in STORAGE_KINDS):
            raise CheckpointError("storage of an unsupported type")
        if not (isinstance(key, str) and isinstance(location, str) and is_count(numel)):
            raise CheckpointError("malformed storage reference")
        if pid[5:] not in ((), (None,)):
            raise CheckpointError("storage %r is a view of another storage (not supported)" % key)
        storage = Storage(key, STORAGE_KINDS[kind.name], numel)
        if self.storages.setdefault(key, storage) != storage:
            raise CheckpointError("storage %r is declared with two types or sizes" % key)
        return storage

    def tensor(self, arguments):
        if not (isinstance(arguments, tuple) and len(arguments) == 6 and isinstance(arguments[0], Storage)):
            raise CheckpointError("malformed tensor in the pickle")
        storage, offset, size, stride = arguments[:4]
        if not (is_count(offset) and is_shape(size) and is_shape(stride) and len(size) == len(stride)):
            raise CheckpointError("a tensor on storage %r has a malformed offset, size or stride" % storage.key)
        check_view(storage, offset, size, stride)
        return Tensor()

    @staticmethod
    def build(state, target):
        # torch.save's OrderedDicts carry their _metadata this way; nothing else may be built.
        if not (isinstance(target, dict) and isinstance(state, dict)):
            raise CheckpointError("pickle builds a %s" % type(target).__name__)

    @staticmethod
    def set_items(target, items):
        if not isinstance(target, dict) or len(items) % 2:
            raise CheckpointError("pickle sets items of a %s" % type(target).__name__)
        for key, value in zip(items[0::2], items[1::2]):
            if not isinstance(key, (str, int)):
                raise CheckpointError("pickle uses a %s as a dict key" % type(key).__name__)
            target[key] = value

    @staticmethod
    def extend(target, items):
        if not isinstance(target, list):
            raise CheckpointError("pickle appends to a %s" % type(target).__name__)
        target.extend(items)
