package store

import "syscall"

// networkFilesystem reports whether dir is on NFS, SMB/CIFS or another
// network filesystem, by the filesystem's magic number.
func networkFilesystem(dir string) (string, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "", false
	}
	return filesystemKind(uint32(st.Type))
}

// filesystemKind names a filesystem magic number and reports whether it is
// a network filesystem.
func filesystemKind(magic uint32) (string, bool) {
	switch magic {
	case 0x6969:
		return "nfs", true
	case 0xFF534D42:
		return "cifs", true
	case 0xFE534D42:
		return "smb2", true
	case 0x517B:
		return "smb", true
	case 0x65735546:
		return "fuse", false // FUSE may be local (e.g. overlay tools); allow it
	case 0x564c:
		return "ncp", true
	case 0x6B414653:
		return "afs", true
	case 0x01021997:
		return "9p", true
	}
	return "", false
}
