package org.bagnet4j.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An ImageIO stream over a file channel. It is opened from the {@link java.nio.file.Path} itself, so a file whose name
 * is not valid text in the platform's encoding still opens (a {@link java.io.File} made from such a path names
 * another file), and it seeks in the file instead of caching what was read, as ImageIO's own file stream does.
 */
final class ChannelImageInputStream extends ImageInputStreamImpl {
    private final FileChannel channel;
    private final ByteBuffer one = ByteBuffer.allocate(1);

    ChannelImageInputStream(FileChannel channel) {
        this.channel = channel;
    }

    @Override
    public int read() throws IOException {
        checkClosed();
        bitOffset = 0;
        one.clear();
        if (channel.read(one, streamPos) <= 0) {
            return -1;
        }
        streamPos++;
        return one.get(0) & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        checkClosed();
        bitOffset = 0;
        if (len == 0) {
            return 0;
        }
        int n = channel.read(ByteBuffer.wrap(b, off, len), streamPos);
        if (n <= 0) {
            return -1;
        }
        streamPos += n;
        return n;
    }

    @Override
    public long length() {
        try {
            return channel.size();
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() throws IOException {
        super.close();
        channel.close();
    }
}
