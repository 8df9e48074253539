// SPDX-License-Identifier: GPL-2.0
/*
 * Test importer: a device that attaches to a dma-buf, maps it for DMA, and
 * reads it through vmap, so tests reach the exporter's attach, map_dma_buf,
 * begin/end_cpu_access, vmap, vunmap, unmap_dma_buf and detach.
 *
 * Write a dma-buf fd number to /sys/kernel/debug/heapstat_importer, then read
 * it back: "nents=N bytes=B seg_min=S seg_max=S vmap=0 sum=X" where the
 * segments are the mapped sg entries and sum is a 32-bit sum of the buffer's
 * little-endian u32 words (vmap=<errno> and sum=0 when vmap is refused).
 *
 * "hold FD" keeps a reference to the buffer without attaching, as kernel code
 * holding a dma-buf does; "attach FD" keeps a reference and an attachment,
 * as a device that imported the buffer does; "drop" lets go of every held
 * or attached buffer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/uaccess.h>

MODULE_IMPORT_NS("DMA_BUF");

static struct platform_device *pdev;
static struct dentry *file;
static DEFINE_MUTEX(lock);
static char result[128];
static struct dma_buf *held[16];
static struct dma_buf_attachment *attached[16];

static int importer_check(int fd)
{
	struct dma_buf_attachment *attach;
	struct iosys_map map;
	struct sg_table *sgt;
	struct scatterlist *sg;
	struct dma_buf *dmabuf;
	u64 bytes = 0, seg_min = U64_MAX, seg_max = 0;
	u32 sum = 0;
	int i, ret, vret;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, &pdev->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto put;
	}
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto detach;
	}
	for_each_sgtable_dma_sg(sgt, sg, i) {
		bytes += sg_dma_len(sg);
		seg_min = min_t(u64, seg_min, sg_dma_len(sg));
		seg_max = max_t(u64, seg_max, sg_dma_len(sg));
	}

	ret = dma_buf_begin_cpu_access(dmabuf, DMA_FROM_DEVICE);
	if (ret)
		goto unmap;
	vret = dma_buf_vmap_unlocked(dmabuf, &map);
	if (!vret) {
		for (i = 0; i < dmabuf->size / 4; i++)
			sum += le32_to_cpu(((__le32 *)map.vaddr)[i]);
		dma_buf_vunmap_unlocked(dmabuf, &map);
	}
	ret = dma_buf_end_cpu_access(dmabuf, DMA_FROM_DEVICE);
	snprintf(result, sizeof(result), "nents=%u bytes=%llu seg_min=%llu seg_max=%llu vmap=%d sum=%u\n",
		 sgt->nents, bytes, seg_min, seg_max, vret, sum);
unmap:
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_BIDIRECTIONAL);
detach:
	dma_buf_detach(dmabuf, attach);
put:
	dma_buf_put(dmabuf);
	return ret;
}

static void drop_held(void)
{
	for (int i = 0; i < ARRAY_SIZE(held); i++) {
		if (attached[i])
			dma_buf_detach(held[i], attached[i]);
		if (held[i])
			dma_buf_put(held[i]);
		attached[i] = NULL;
		held[i] = NULL;
	}
}

/* keep a reference to the buffer behind fd, and an attachment when asked */
static int hold(int fd, bool attach)
{
	struct dma_buf_attachment *a = NULL;
	struct dma_buf *dmabuf;

	for (int i = 0; i < ARRAY_SIZE(held); i++) {
		if (held[i])
			continue;
		dmabuf = dma_buf_get(fd);
		if (IS_ERR(dmabuf))
			return PTR_ERR(dmabuf);
		if (attach) {
			a = dma_buf_attach(dmabuf, &pdev->dev);
			if (IS_ERR(a)) {
				dma_buf_put(dmabuf);
				return PTR_ERR(a);
			}
		}
		held[i] = dmabuf;
		attached[i] = a;
		return 0;
	}
	return -ENOSPC;
}

static ssize_t importer_write(struct file *f, const char __user *ubuf, size_t len, loff_t *pos)
{
	char cmd[32];
	int fd, ret;

	if (!len || len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	mutex_lock(&lock);
	result[0] = '\0';
	if (sysfs_streq(cmd, "drop")) {
		drop_held();
		ret = 0;
	} else if (!strncmp(cmd, "hold ", 5)) {
		ret = kstrtoint(strim(cmd + 5), 10, &fd) ?: hold(fd, false);
	} else if (!strncmp(cmd, "attach ", 7)) {
		ret = kstrtoint(strim(cmd + 7), 10, &fd) ?: hold(fd, true);
	} else {
		ret = kstrtoint(strim(cmd), 10, &fd) ?: importer_check(fd);
	}
	mutex_unlock(&lock);
	return ret ?: len;
}

static ssize_t importer_read(struct file *f, char __user *ubuf, size_t len, loff_t *pos)
{
	ssize_t ret;

	mutex_lock(&lock);
	ret = simple_read_from_buffer(ubuf, len, pos, result, strlen(result));
	mutex_unlock(&lock);
	return ret;
}

static const struct file_operations importer_fops = {
	.owner = THIS_MODULE,
	.write = importer_write,
	.read = importer_read,
};

static int __init importer_init(void)
{
	int ret;

	pdev = platform_device_register_simple(KBUILD_MODNAME, -1, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto unregister;
	file = debugfs_create_file(KBUILD_MODNAME, 0600, NULL, NULL, &importer_fops);
	return 0;

unregister:
	platform_device_unregister(pdev);
	return ret;
}

static void __exit importer_exit(void)
{
	debugfs_remove(file);
	drop_held();
	platform_device_unregister(pdev);
}

module_init(importer_init);
module_exit(importer_exit);
MODULE_DESCRIPTION("heapstat test importer: attach, map and vmap a dma-buf");
MODULE_LICENSE("GPL");
