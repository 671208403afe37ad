using System.Text;

namespace GrafanaPanel.Web.Features.Backups.Archive;

/// <summary>
/// Checks the raw 512-byte header blocks of one entry (its PAX or GNU long-name blocks and its own header). This
/// is hand-rolled because .NET 10's <see cref="System.Formats.Tar.TarReader"/> does not verify header checksums,
/// while Docker's Go reader, which extracts the upload, refuses a bad one: a header the two read differently must
/// not get through. Only the fields needed to find the blocks are parsed; TarReader still reads the entry.
/// </summary>
internal static class TarHeaderBlocks
{
    private const int BlockSize = 512;
    private const int ChecksumOffset = 148;
    private const int ChecksumLength = 8;
    private const int TypeOffset = 156;
    private const int SizeOffset = 124;
    private const int SizeLength = 12;

    /// <param name="headers">The bytes from the end of the previous entry's data to the end of this entry's header.</param>
    /// <param name="entryName">The entry these blocks describe, for the message.</param>
    public static void Verify(ReadOnlySpan<byte> headers, string entryName)
    {
        var position = 0;
        while (true)
        {
            if (headers.Length - position < BlockSize)
            {
                throw Corrupt(entryName, "its header blocks do not line up with the 512-byte blocks of a tar.");
            }

            var block = headers.Slice(position, BlockSize);
            if (!ChecksumMatches(block))
            {
                throw Corrupt(entryName, $"the header block at +{position} has a wrong checksum.");
            }

            position += BlockSize;
            var type = (char)block[TypeOffset];
            if (type == 'g')
            {
                // A global PAX header is returned as an entry of its own, with its records already read.
                return;
            }

            if (type is not ('x' or 'L' or 'K'))
            {
                // The entry's own header: it must be the last block before the entry's data.
                if (position != headers.Length)
                {
                    throw Corrupt(entryName, "there are header blocks the tar reader did not account for.");
                }

                return;
            }

            if (!TryParseOctal(block.Slice(SizeOffset, SizeLength), out var size) || size > headers.Length - position)
            {
                throw Corrupt(entryName, $"the size of the '{type}' header block at +{position - BlockSize} is invalid.");
            }

            position += (int)((size + BlockSize - 1) / BlockSize * BlockSize);
        }
    }

    private static bool ChecksumMatches(ReadOnlySpan<byte> block)
    {
        if (!TryParseOctal(block.Slice(ChecksumOffset, ChecksumLength), out var recorded))
        {
            return false;
        }

        // The checksum field counts as eight spaces. Old tars summed signed bytes; Go accepts either, and so do we.
        long unsigned = ' ' * ChecksumLength;
        long signed = ' ' * ChecksumLength;
        for (var i = 0; i < BlockSize; i++)
        {
            if (i is >= ChecksumOffset and < ChecksumOffset + ChecksumLength)
            {
                continue;
            }

            unsigned += block[i];
            signed += (sbyte)block[i];
        }

        return recorded == unsigned || recorded == signed;
    }

    /// <summary>An octal number padded with spaces or NULs, as tar writes them.</summary>
    private static bool TryParseOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        var digits = Encoding.ASCII.GetString(field).Trim(' ', '\0');
        if (digits.Length == 0 || digits.Length > 11)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (c is < '0' or > '7')
            {
                return false;
            }

            value = value * 8 + (c - '0');
        }

        return true;
    }

    private static UnsafeArchiveException Corrupt(string entryName, string reason) =>
        new(TarRule.Corrupt, entryName, "the archive is corrupt: " + reason);
}
